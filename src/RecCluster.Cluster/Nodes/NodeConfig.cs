using System.Text.Json;
using Akka.Actor;
using Akka.Configuration;

namespace RecCluster.Cluster.Nodes;

/// <summary>A bad --config file, seed address or timing: the user's input, not a bug.</summary>
public sealed class NodeConfigException(string message) : Exception(message);

/// <summary>
/// The HOCON a node runs with, layered lowest first: Akka's defaults, the protocol's serialization bindings (embedded, see
/// <see cref="ClusterConfigs"/>), the shipped <c>cluster-config</c> files shared by every role, the role's file, the user's
/// --config file, then the flags. Seeds are taken out of the HOCON: the node joins them itself once its port is bound.
/// </summary>
/// <param name="RejoinAfter">Workers only: how long without a reachable coordinator before rejoining.</param>
/// <param name="Tls">Mutual TLS from the flags, or else from <c>reccluster.tls</c> in the HOCON; null: plain TCP.</param>
public sealed record NodeConfig(Config Hocon, IReadOnlyList<Address> Seeds, TimeSpan? RejoinAfter, NodeTls? Tls = null)
{
    public const string SystemName = "reccluster";

    /// <summary>Address schemes of plain TCP and of TLS (Akka.Remote's dot-netty with enable-ssl).</summary>
    public const string PlainProtocol = "akka.tcp", TlsProtocol = "akka.ssl.tcp";

    /// <summary>Shipped files every role loads, lowest first.</summary>
    private static readonly string[] SharedFiles = ["common.conf"];

    public static string ShippedFolder => Path.Combine(AppContext.BaseDirectory, "cluster-config");

    public static NodeConfig Load(NodeSettings settings, string folder)
    {
        var config = SharedFiles.Append($"{settings.Role.Name()}.conf")
            .Select(name => Parse(Path.Combine(folder, name)))
            .Aggregate(ClusterConfigs.Serialization, (lower, upper) => upper.WithFallback(lower));
        if (settings.ConfigFile is { } user) config = Parse(user).WithFallback(config);
        // Flags and environment variables win over the files, as for every other setting.
        var tls = settings.Tls ?? TlsOf(config);
        config = Flags(settings, tls is not null).WithFallback(config);

        // Seeds may be written either way; the node speaks only its own transport's protocol, so they take its scheme.
        var protocol = tls is null ? PlainProtocol : TlsProtocol;
        var seeds = (settings.Seeds.Count > 0 ? settings.Seeds : config.GetStringList("akka.cluster.seed-nodes").Select(ParseSeed))
            .Select(seed => seed.Protocol == protocol ? seed : new Address(protocol, seed.System, seed.Host, seed.Port)).ToList();
        if (seeds.Count == 0 && settings.Role == NodeRole.Worker)
            throw new NodeConfigException($"a worker needs the coordinator's address: --seeds akka.tcp://{SystemName}@HOST:PORT");
        config = ConfigurationFactory.ParseString("akka.cluster.seed-nodes = []").WithFallback(config);
        return new NodeConfig(config, seeds, settings.Role == NodeRole.Worker ? RejoinAfterOf(config) : null, tls);
    }

    /// <summary>
    /// <c>reccluster.tls { certificate = FILE.pfx, password-file = FILE, ca = ca.crt }</c> from the HOCON layers; the same
    /// files as --tls-cert, --tls-password-file and --tls-ca.
    /// </summary>
    private static NodeTls? TlsOf(Config config)
    {
        string? Text(string key) => config.HasPath($"reccluster.tls.{key}") ? config.GetString($"reccluster.tls.{key}") : null;
        var (certificate, passwordFile, authority) = (Text("certificate"), Text("password-file"), Text("ca"));
        if (certificate is null && authority is null) return null;
        if (certificate is null || authority is null)
            throw new NodeConfigException("reccluster.tls needs both certificate and ca");
        string? password = null;
        if (passwordFile is not null)
        {
            try { password = File.ReadAllText(passwordFile).TrimEnd('\r', '\n'); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new NodeConfigException($"reccluster.tls.password-file {passwordFile}: {e.Message}");
            }
        }
        return NodeTls.Load(certificate, password, authority, "reccluster.tls.certificate", "reccluster.tls.ca");
    }

    /// <summary>A seed as users write it: <c>akka.tcp://reccluster@HOST:PORT</c> (or <c>akka.ssl.tcp://</c>).</summary>
    public static Address ParseSeed(string text)
    {
        Address address;
        try { address = Address.Parse(text.Trim()); }
        catch (UriFormatException) { throw BadSeed(text); }
        if (address.Protocol is not (PlainProtocol or TlsProtocol) || address.System != SystemName || address.Host is null
            || address.Port is not > 0)
            throw BadSeed(text);
        return address;
    }

    private static NodeConfigException BadSeed(string text) =>
        new($"seed '{text}' is not an address like akka.tcp://{SystemName}@HOST:PORT");

    private static Config Flags(NodeSettings settings, bool tls)
    {
        var lines = new List<string>();
        if (settings.Host is { } host)
        {
            lines.Add($"akka.remote.dot-netty.tcp.hostname = {JsonSerializer.Serialize(host)}");
            lines.Add($"akka.remote.dot-netty.tcp.public-hostname = {JsonSerializer.Serialize(host)}");
        }
        if (settings.Port is { } port) lines.Add($"akka.remote.dot-netty.tcp.port = {port}");
        // The certificate itself goes to the transport programmatically (NodeHost), with the validation against the cluster CA.
        if (tls) lines.Add("akka.remote.dot-netty.tcp.enable-ssl = true");
        return ConfigurationFactory.ParseString(string.Join('\n', lines));
    }

    private static TimeSpan RejoinAfterOf(Config config)
    {
        var rejoin = config.GetTimeSpan("reccluster.node.rejoin-after");
        var stable = config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after");
        if (rejoin <= TimeSpan.Zero || rejoin >= stable)
            throw new NodeConfigException($"reccluster.node.rejoin-after ({rejoin.TotalSeconds} s) must be positive and shorter than " +
                $"akka.cluster.split-brain-resolver.stable-after ({stable.TotalSeconds} s), so a worker rejoins before it can be downed");
        return rejoin;
    }

    private static Config Parse(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigException($"cannot read {path}: {e.Message}");
        }
        try { return ConfigurationFactory.ParseString(text); }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The HOCON parser throws several exception types; all of them mean the file is not valid HOCON.
            throw new NodeConfigException($"{path}: not valid HOCON: {e.Message.Split('\n')[0]}");
        }
    }
}
