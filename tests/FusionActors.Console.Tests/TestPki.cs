using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FusionActors.Fusionctl.Tests;

/// <summary>
/// A tiny certificate authority in a temp directory, made with .NET's CertificateRequest (no external tool):
/// a self-signed CA (its certificate as PEM, for fusionctl --tls-ca) that issues server certificates as PKCS#12
/// files (for fusion.console.tls.certificate).
/// </summary>
public sealed class TestPki : IDisposable
{
    private readonly X509Certificate2 _ca;

    public TestPki(string name, string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        _ca = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        CaPem = Path.Combine(directory, $"{name}.pem");
        File.WriteAllText(CaPem, _ca.ExportCertificatePem());
    }

    public string Directory { get; }

    /// <summary>The CA's certificate (PEM), what fusionctl trusts with --tls-ca.</summary>
    public string CaPem { get; }

    /// <summary>A temp directory that is deleted with the PKI.</summary>
    public static string NewDirectory() => Path.Combine(Path.GetTempPath(), "fusion-console-tls-" + Guid.NewGuid().ToString("N"));

    /// <summary>
    /// Issues a TLS server certificate for <paramref name="dnsNames"/> and <paramref name="addresses"/> (its subject
    /// alternative names) and writes it with its private key as PKCS#12 protected by <paramref name="password"/>.
    /// </summary>
    public string IssueServerCertificate(string fileName, string password, string[] dnsNames, IPAddress[] addresses)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames.FirstOrDefault() ?? addresses[0].ToString()}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        foreach (var dns in dnsNames) san.AddDnsName(dns);
        foreach (var address in addresses) san.AddIpAddress(address);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(_ca, now.AddDays(-1), now.AddDays(29), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        var path = Path.Combine(Directory, fileName);
        File.WriteAllBytes(path, withKey.Export(X509ContentType.Pkcs12, password));
        return path;
    }

    /// <summary>A self-signed TLS server certificate for 127.0.0.1: its PKCS#12 file (with the key) and its PEM (to trust).</summary>
    public static (string Pfx, string Pem) SelfSignedServerCertificate(string directory, string name, string password)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
        var pfx = Path.Combine(directory, $"{name}.pfx");
        var pem = Path.Combine(directory, $"{name}.pem");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, password));
        File.WriteAllText(pem, certificate.ExportCertificatePem());
        return (pfx, pem);
    }

    public void Dispose()
    {
        _ca.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { /* a temp directory */ }
    }
}
