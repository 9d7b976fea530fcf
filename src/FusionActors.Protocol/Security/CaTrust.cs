using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace FusionActors.Protocol.Security;

/// <summary>
/// TLS trust of FusionActors remoting, the same on nodes and clients: a peer's certificate is accepted only
/// when its chain ends at the project's own CA (tools/tls/make-ca.sh), never at the system's trust store.
/// </summary>
/// <remarks>
/// Revocation is not checked (<see cref="X509RevocationMode.NoCheck"/>): a local CA publishes no CRL or OCSP
/// responder, and remoting must not stall on fetching one. To withdraw a certificate, issue a new CA and new
/// certificates, or keep certificates short-lived.
/// </remarks>
public static class CaTrust
{
    /// <summary>The CA certificate(s) of a PEM file: one CA, or several while rotating to a new one.</summary>
    public static X509Certificate2Collection LoadCa(string pemPath)
    {
        if (!File.Exists(pemPath)) throw new FileNotFoundException($"TLS CA certificate '{pemPath}' does not exist", pemPath);
        var cas = new X509Certificate2Collection();
        cas.ImportFromPemFile(pemPath);
        if (cas.Count == 0) throw new InvalidOperationException($"TLS CA file '{pemPath}' holds no PEM certificate");
        return cas;
    }

    /// <summary>A PKCS#12 certificate with its private key (what this end presents to its peers).</summary>
    public static X509Certificate2 LoadPfx(string path, string? password)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"TLS certificate '{path}' does not exist", path);
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.DefaultKeySet);
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"TLS certificate '{path}' has no private key");
        }
        return certificate;
    }

    /// <summary>
    /// The remoting setup: this end presents <paramref name="certificate"/> and accepts peers whose certificate
    /// chains to one of <paramref name="cas"/>. <paramref name="suppressValidation"/> accepts any certificate
    /// (development only) and needs no CA.
    /// </summary>
    public static DotNettySslSetup Setup(X509Certificate2 certificate, X509Certificate2Collection? cas, bool requireMutualAuthentication,
        bool validateHostname = false, bool suppressValidation = false)
    {
        if (suppressValidation)
            return new DotNettySslSetup(certificate, suppressValidation: true, requireMutualAuthentication, validateHostname, customValidator: null);
        if (cas is null || cas.Count == 0)
            throw new ArgumentException("a CA certificate to validate peers against is required (or suppress validation, for development only)", nameof(cas));
        return new DotNettySslSetup(certificate, suppressValidation: false, requireMutualAuthentication, validateHostname, Validator(cas, validateHostname));
    }

    /// <summary>
    /// A validator that accepts a peer only when its certificate chains to one of <paramref name="cas"/>:
    /// the chain is built anew with the CAs as the only roots, so what the system trusts plays no part.
    /// With <paramref name="validateHostname"/>, a server certificate that does not name the host dialled is refused too.
    /// </summary>
    public static CertificateValidationCallback Validator(X509Certificate2Collection cas, bool validateHostname = false)
    {
        if (cas.Count == 0) throw new ArgumentException("at least one CA certificate is required", nameof(cas));
        var anchors = new X509Certificate2Collection(cas);
        return (certificate, presented, peer, errors, log) =>
        {
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
            {
                log.Warning("TLS peer {0} refused: it presented no certificate", peer);
                return false;
            }
            if (validateHostname && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                log.Warning("TLS peer {0} refused: certificate '{1}' does not name the host dialled", peer, certificate.Subject);
                return false;
            }
            // SslStream's own chain errors are those of the system store, which does not know our CA: build again.
            if (ChainsTo(certificate, anchors, presented, out var reason)) return true;
            log.Warning("TLS peer {0} refused: certificate '{1}' (issuer '{2}', thumbprint {3}) {4}",
                peer, certificate.Subject, certificate.Issuer, certificate.Thumbprint, reason);
            return false;
        };
    }

    /// <summary>Whether <paramref name="certificate"/> chains to one of <paramref name="cas"/> now; else why not.</summary>
    /// <param name="presented">The chain the peer's TLS stack saw; its intermediates help build ours, they are not trusted.</param>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection cas, X509Chain? presented, out string reason)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(cas);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
        if (presented is not null)
            foreach (var element in presented.ChainElements)
                if (element.Certificate.Thumbprint != certificate.Thumbprint) chain.ChainPolicy.ExtraStore.Add(element.Certificate);

        if (!chain.Build(certificate))
        {
            var status = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct();
            reason = $"does not chain to the FusionActors CA ({string.Join("; ", status)})";
            return false;
        }
        // CustomRootTrust takes roots from the custom store only; the explicit check keeps that promise visible.
        var root = chain.ChainElements[^1].Certificate;
        if (!cas.Cast<X509Certificate2>().Any(ca => ca.Thumbprint == root.Thumbprint))
        {
            reason = $"chains to '{root.Subject}', which is not the FusionActors CA";
            return false;
        }
        reason = "";
        return true;
    }
}
