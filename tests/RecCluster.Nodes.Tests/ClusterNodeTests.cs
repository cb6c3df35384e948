using System.Runtime.Versioning;
using System.Text.Json.Nodes;

namespace RecCluster.Nodes.Tests;

/// <summary>
/// Real <c>reccluster node</c> processes on 127.0.0.1 with the short timings of cluster-config/test.conf: membership,
/// a graceful leave, a killed worker downed by the split-brain resolver, and a worker finding a restarted coordinator.
/// </summary>
[SupportedOSPlatform("linux")]   // signals and an executable shell script
public sealed class ClusterNodeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("reccluster-nodes-").FullName;
    private readonly List<NodeProcess> _nodes = [];

    [Fact]
    public void Coordinator_sees_both_workers_and_a_worker_stopped_by_sigterm_leaves_gracefully()
    {
        var (coordinator, address) = StartCoordinator(port: 0);
        // Slots and GPUs from the environment for one worker, GPUs from a fake nvidia-smi for the other.
        var fromEnvironment = StartWorker("worker-1", address, new() { ["RECCLUSTER_SLOTS"] = "2", ["RECCLUSTER_GPUS"] = "1" });
        var fromSmi = StartWorker("worker-2", address, new() { ["PATH"] = FakeNvidiaSmi(gpus: 3) });

        var up1 = fromEnvironment.WaitFor("up", e => Is(e, "up"));
        var up2 = fromSmi.WaitFor("up", e => Is(e, "up"));
        Assert.Equal(("worker", 2, 1), ((string)up1["role"]!, (int)up1["slots"]!, (int)up1["gpus"]!));
        Assert.Equal(("worker", 3, 3), ((string)up2["role"]!, (int)up2["slots"]!, (int)up2["gpus"]!));
        foreach (var worker in new[] { up1, up2 })
        {
            var seen = coordinator.WaitFor($"member-up of {worker["address"]}", e => Is(e, "member-up", Address(worker)));
            Assert.Equal(["worker"], seen["roles"]!.AsArray().Select(r => (string)r!));
        }

        fromEnvironment.Terminate();
        Assert.Equal(0, fromEnvironment.WaitForExit());
        var removed = coordinator.WaitFor("member-removed of worker-1", e => Is(e, "member-removed", Address(up1)));
        Assert.Equal("exiting", (string)removed["previous"]!);   // it left; nobody had to down it
        Assert.DoesNotContain(coordinator.Events, e => Is(e, "member-unreachable", Address(up1)));
    }

    [Fact]
    public void Killed_worker_is_downed_and_the_surviving_worker_joins_the_restarted_coordinators_new_cluster()
    {
        var (coordinator, address) = StartCoordinator(port: 0);
        var survivor = StartWorker("worker-1", address);
        var victim = StartWorker("worker-2", address);
        var survivorUp = survivor.WaitFor("up", e => Is(e, "up"));
        var victimUp = victim.WaitFor("up", e => Is(e, "up"));
        coordinator.WaitFor("member-up of worker-1", e => Is(e, "member-up", Address(survivorUp)));
        coordinator.WaitFor("member-up of worker-2", e => Is(e, "member-up", Address(victimUp)));

        victim.KillHard();
        coordinator.WaitFor("member-unreachable of worker-2", e => Is(e, "member-unreachable", Address(victimUp)));
        var removed = coordinator.WaitFor("member-removed of worker-2", e => Is(e, "member-removed", Address(victimUp)));
        Assert.Equal("down", (string)removed["previous"]!);   // downed by the split-brain resolver

        // The restarted coordinator is its own seed and forms a new cluster; the worker must leave the old one and join it.
        coordinator.KillHard();
        var port = int.Parse(address[(address.LastIndexOf(':') + 1)..]);
        var (restarted, sameAddress) = StartCoordinator(port);
        Assert.Equal(address, sameAddress);
        survivor.WaitFor("rejoining", e => Is(e, "rejoining"));
        var rejoined = survivor.WaitFor("second up", e => Is(e, "up"), nth: 2);
        restarted.WaitFor("member-up of the rejoined worker", e => Is(e, "member-up", Address(rejoined)));
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private (NodeProcess Node, string Address) StartCoordinator(int port)
    {
        var node = Start("coordinator", ["coordinator", "--state", Path.Combine(_folder, "state"), "--port", $"{port}"]);
        return (node, Address(node.WaitFor("up", e => Is(e, "up"))));
    }

    private NodeProcess StartWorker(string name, string seed, Dictionary<string, string>? environment = null) =>
        Start(name, ["worker", "--seeds", seed, "--storage", Path.Combine(_folder, "storage")], environment);

    private NodeProcess Start(string name, string[] args, Dictionary<string, string>? environment = null)
    {
        var node = NodeProcess.Start(name, [.. args, "--host", "127.0.0.1", "--config", NodeProcess.TestConfig], environment);
        _nodes.Add(node);
        return node;
    }

    /// <summary>A folder with an nvidia-smi that lists <paramref name="gpus"/> GPUs, ahead of the usual PATH.</summary>
    private string FakeNvidiaSmi(int gpus)
    {
        var bin = Directory.CreateDirectory(Path.Combine(_folder, "fake-bin")).FullName;
        var script = Path.Combine(bin, "nvidia-smi");
        var lines = Enumerable.Range(0, gpus).Select(i => $"echo 'GPU {i}: Fake GPU (UUID: GPU-{i})'\n");
        File.WriteAllText(script, "#!/bin/sh\n" + string.Concat(lines));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return $"{bin}{Path.PathSeparator}{Environment.GetEnvironmentVariable("PATH")}";
    }

    private static bool Is(JsonObject e, string kind, string? address = null) =>
        (string?)e["event"] == kind && (address is null || (string?)e["address"] == address);

    private static string Address(JsonObject e) => (string)e["address"]!;
}
