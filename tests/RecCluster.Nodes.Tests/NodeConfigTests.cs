using Akka.Actor;
using RecCluster.Cluster.Nodes;

namespace RecCluster.Nodes.Tests;

/// <summary>How the shipped cluster-config files, a user's --config file and the flags stack up.</summary>
public sealed class NodeConfigTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("reccluster-nodeconfig-").FullName;

    [Fact]
    public void Flags_win_over_the_user_file_which_wins_over_the_role_file()
    {
        var user = Write("port = 5001", "hostname = \"node-a.example\"");
        Assert.Equal(4053, Port(Load(NodeRole.Coordinator)));
        Assert.Equal(0, Port(Load(NodeRole.Worker, seeds: "akka.tcp://reccluster@127.0.0.1:4053")));
        var fromFile = Load(NodeRole.Coordinator, config: user);
        Assert.Equal((5001, "node-a.example"), (Port(fromFile), fromFile.Hocon.GetString("akka.remote.dot-netty.tcp.hostname")));
        var fromFlags = Load(NodeRole.Coordinator, config: user, port: 5002, host: "127.0.0.1");
        Assert.Equal((5002, "127.0.0.1"), (Port(fromFlags), fromFlags.Hocon.GetString("akka.remote.dot-netty.tcp.public-hostname")));
        Assert.Equal(["coordinator"], fromFlags.Hocon.GetStringList("akka.cluster.roles"));
        Assert.Equal("keep-majority", fromFlags.Hocon.GetString("akka.cluster.split-brain-resolver.active-strategy"));
    }

    [Fact]
    public void Seeds_come_from_the_flag_else_the_user_file_and_the_node_joins_them_itself()
    {
        var user = Write("""akka.cluster.seed-nodes = ["akka.tcp://reccluster@127.0.0.1:4100"]""");
        var fromFile = Load(NodeRole.Worker, config: user);
        Assert.Equal([Address.Parse("akka.tcp://reccluster@127.0.0.1:4100")], fromFile.Seeds);
        Assert.Empty(fromFile.Hocon.GetStringList("akka.cluster.seed-nodes"));   // no automatic join before the port is known
        var fromFlag = Load(NodeRole.Worker, config: user, seeds: "akka.tcp://reccluster@127.0.0.1:4200");
        Assert.Equal([Address.Parse("akka.tcp://reccluster@127.0.0.1:4200")], fromFlag.Seeds);
        Assert.Empty(Load(NodeRole.Coordinator).Seeds);   // the coordinator is its own seed
        Assert.Equal(TimeSpan.FromSeconds(10), fromFlag.RejoinAfter);
        Assert.Null(Load(NodeRole.Coordinator).RejoinAfter);
    }

    [Fact]
    public void A_worker_without_seeds_or_rejoining_no_sooner_than_the_resolver_decides_is_refused()
    {
        Assert.Contains("--seeds", Assert.Throws<NodeConfigException>(() => Load(NodeRole.Worker)).Message);
        var slow = Write("reccluster.node.rejoin-after = 20s");
        var seeds = "akka.tcp://reccluster@127.0.0.1:4053";
        Assert.Contains("stable-after", Assert.Throws<NodeConfigException>(() => Load(NodeRole.Worker, slow, seeds: seeds)).Message);
        // Akka's HOCON parser is lenient; an unresolved substitution is one of the few things it rejects.
        var broken = Write("port = ${undefined}");
        Assert.Contains("not valid HOCON", Assert.Throws<NodeConfigException>(() => Load(NodeRole.Coordinator, broken)).Message);
    }

    [Theory]
    [InlineData("127.0.0.1:4053")]
    [InlineData("akka.tcp://other@127.0.0.1:4053")]
    [InlineData("akka.tcp://reccluster@127.0.0.1")]
    [InlineData("http://reccluster@127.0.0.1:4053")]
    public void Seeds_must_be_reccluster_tcp_addresses_with_a_port(string seed) =>
        Assert.Throws<NodeConfigException>(() => NodeConfig.ParseSeed(seed));

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static NodeConfig Load(NodeRole role, string? config = null, int? port = null, string? host = null, string? seeds = null)
    {
        var settings = new NodeSettings(role, host, port, seeds is null ? [] : [NodeConfig.ParseSeed(seeds)], 1, 0, "unused", config);
        return NodeConfig.Load(settings, NodeConfig.ShippedFolder);
    }

    private static int Port(NodeConfig config) => config.Hocon.GetInt("akka.remote.dot-netty.tcp.port");

    /// <summary>A user file; bare port/hostname lines go under akka.remote.dot-netty.tcp, other lines as they are.</summary>
    private string Write(params string[] lines)
    {
        var path = Path.Combine(_folder, $"user-{Guid.NewGuid():N}.conf");
        File.WriteAllLines(path, lines.Select(l => l.StartsWith("port") || l.StartsWith("hostname") ? $"akka.remote.dot-netty.tcp.{l}" : l));
        return path;
    }
}
