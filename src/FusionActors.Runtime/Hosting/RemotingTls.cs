using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Transport.DotNetty;
using FusionActors.Protocol.Security;

namespace FusionActors.Runtime.Hosting;

/// <summary>
/// TLS of a node's remoting (akka.remote.dot-netty.tcp.enable-ssl = on): the node presents its PKCS#12
/// certificate and accepts nodes and clients only with a certificate signed by the project's CA
/// (<see cref="CaTrust"/>). The certificate and the switches are Akka's own keys under
/// akka.remote.dot-netty.tcp.ssl; the CA is Fusion:Tls:Ca (docs/configuration.md).
/// </summary>
/// <param name="CertificatePath">PKCS#12 file the node presents (ssl.certificate.path).</param>
/// <param name="Password">Its password (ssl.certificate.password; Fusion:Tls:CertificatePassword overrides).</param>
/// <param name="CaPath">PEM file of the CA(s) peers must chain to (Fusion:Tls:Ca).</param>
/// <param name="RequireMutual">Peers dialling in must present a certificate (ssl.require-mutual-authentication, default on).</param>
/// <param name="ValidateHostname">A node dialled must present a certificate naming its host (ssl.validate-certificate-hostname, default off).</param>
/// <param name="SuppressValidation">Accept any certificate: development only (ssl.suppress-validation, default off).</param>
public sealed record RemotingTlsOptions(string CertificatePath, string? Password, string? CaPath, bool RequireMutual = true,
    bool ValidateHostname = false, bool SuppressValidation = false)
{
    private const string Ssl = "akka.remote.dot-netty.tcp.ssl";

    /// <summary>The node's TLS options, or null when its remoting runs without TLS.</summary>
    /// <param name="all">The node's HOCON: Akka's keys under akka.remote.dot-netty.tcp.</param>
    /// <param name="ca">The CA file (Fusion:Tls:Ca); null = none.</param>
    /// <param name="password">The certificate's password (Fusion:Tls:CertificatePassword); null = Akka's certificate.password.</param>
    public static RemotingTlsOptions? FromConfig(Config all, string? ca, string? password)
    {
        if (!all.GetBoolean("akka.remote.dot-netty.tcp.enable-ssl", false)) return null;
        if (all.GetBoolean($"{Ssl}.certificate.use-thumbprint-over-file", false))
            throw new ConfigurationException($"{Ssl}.certificate.use-thumbprint-over-file is not supported: give {Ssl}.certificate.path (a PKCS#12 file)");
        var path = all.GetString($"{Ssl}.certificate.path", "");
        if (string.IsNullOrWhiteSpace(path)) throw new ConfigurationException($"enable-ssl is on but {Ssl}.certificate.path is empty");
        var options = new RemotingTlsOptions(path, password ?? all.GetString($"{Ssl}.certificate.password", ""), ca,
            all.GetBoolean($"{Ssl}.require-mutual-authentication", true),
            all.GetBoolean($"{Ssl}.validate-certificate-hostname", false),
            all.GetBoolean($"{Ssl}.suppress-validation", false));
        if (options.SuppressValidation && options.CaPath is not null)
            throw new ConfigurationException($"{Ssl}.suppress-validation = on contradicts Fusion:Tls:Ca (fusion.tls.ca): turn validation off only without a CA");
        if (!options.SuppressValidation && options.CaPath is null)
            throw new ConfigurationException($"enable-ssl is on but Fusion:Tls:Ca (fusion.tls.ca, FUSION_TLS_CA) is empty: give the CA that signs the cluster's certificates (tools/tls/make-ca.sh)");
        return options;
    }

    /// <summary>The remoting setup these options describe (loads the certificate and the CA).</summary>
    public DotNettySslSetup CreateSetup() => CaTrust.Setup(CaTrust.LoadPfx(CertificatePath, Password),
        CaPath is null ? null : CaTrust.LoadCa(CaPath), RequireMutual, ValidateHostname, SuppressValidation);
}

public static class RemotingTlsExtensions
{
    /// <summary>Remoting TLS as <paramref name="tls"/> says; nothing when null (plain TCP).</summary>
    public static AkkaConfigurationBuilder WithFusionTls(this AkkaConfigurationBuilder builder, RemotingTlsOptions? tls) =>
        tls is null ? builder : builder.AddSetup(tls.CreateSetup());
}
