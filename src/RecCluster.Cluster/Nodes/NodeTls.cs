using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Akka.Actor.Setup;
using Akka.Event;
using Akka.Remote.Transport.DotNetty;

namespace RecCluster.Cluster.Nodes;

/// <summary>
/// Mutual TLS between nodes: this node's certificate (PKCS#12 with its key) and the cluster's certificate authority. Both
/// sides of every connection present a certificate and accept the peer's only if the cluster CA signed it, whatever the
/// machine's own trust store holds: a node without a certificate from that CA cannot connect, hence cannot join.
/// </summary>
public sealed class NodeTls
{
    public const string CertVariable = "RECCLUSTER_TLS_CERT";
    public const string PasswordFileVariable = "RECCLUSTER_TLS_PASSWORD_FILE";
    public const string PasswordVariable = "RECCLUSTER_TLS_PASSWORD";
    public const string AuthorityVariable = "RECCLUSTER_TLS_CA";

    private NodeTls(X509Certificate2 certificate, X509Certificate2 authority) => (Certificate, Authority) = (certificate, authority);

    public X509Certificate2 Certificate { get; }
    public X509Certificate2 Authority { get; }

    /// <summary>Loads and checks the files: the key is present, and the certificate is one the CA signed and still valid.</summary>
    /// <exception cref="NodeConfigException">Naming the file and what is wrong with it.</exception>
    /// <param name="certificateSource">How the user named the certificate, for messages (--tls-cert, reccluster.tls.certificate).</param>
    public static NodeTls Load(string certificatePath, string? password, string authorityPath, string certificateSource = "--tls-cert",
        string authoritySource = "--tls-ca")
    {
        X509Certificate2 certificate, authority;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password,
                X509KeyStorageFlags.EphemeralKeySet | X509KeyStorageFlags.Exportable);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigException($"{certificateSource} {certificatePath}: cannot read a PKCS#12 certificate with its key " +
                $"(wrong --tls-password-file?): {e.Message}");
        }
        try
        {
            authority = X509CertificateLoader.LoadCertificateFromFile(authorityPath);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigException($"{authoritySource} {authorityPath}: cannot read a certificate: {e.Message}");
        }
        if (!certificate.HasPrivateKey) throw new NodeConfigException($"{certificateSource} {certificatePath}: holds no private key");
        var tls = new NodeTls(certificate, authority);
        if (tls.Problem(certificate) is { } problem)
            throw new NodeConfigException($"{certificateSource} {certificatePath}: not accepted by {authoritySource} {authorityPath}: {problem}");
        return tls;
    }

    /// <summary>The transport's TLS: mutual, validated against the cluster CA only (host names are not checked: nodes are
    /// reached by address, and the CA vouches for every certificate it signed).</summary>
    public Setup Setup() => new DotNettySslSetup(Certificate, suppressValidation: false, requireMutualAuthentication: true,
        validateCertificateHostname: false, customValidator: Validate);

    private bool Validate(X509Certificate2? certificate, X509Chain? chain, string remotePeer, SslPolicyErrors errors, ILoggingAdapter? log)
    {
        var problem = certificate is null ? "it presented no certificate" : Problem(certificate);
        if (problem is null) return true;
        log?.Warning("TLS: refused {0}: {1} (the cluster CA is {2})", remotePeer, problem, Authority.Subject);
        return false;
    }

    /// <summary>Null when the cluster CA signed <paramref name="certificate"/> and it is valid now; otherwise why not.</summary>
    public string? Problem(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;   // a private CA publishes no revocation list
        if (chain.Build(certificate)) return null;
        var reasons = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct();
        return $"certificate '{certificate.Subject}' issued by '{certificate.Issuer}': {string.Join("; ", reasons)}";
    }
}
