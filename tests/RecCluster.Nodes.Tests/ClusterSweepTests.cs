using System.Diagnostics;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;

namespace RecCluster.Nodes.Tests;

/// <summary>
/// Sweeps on a real cluster (a coordinator and single-slot workers as processes on 127.0.0.1, trials as their child
/// processes), failures caused for real: a worker killed with SIGKILL, a coordinator killed and restarted on its state, a
/// worker frozen with SIGSTOP until it is downed. Whatever died, every trial appears once and ends with a result.
/// </summary>
[SupportedOSPlatform("linux")]
[Collection("sweep clusters")]   // one cluster at a time: two would share 2 cores and make each other's trials crawl
public sealed class ClusterSweepTests : IDisposable
{
    private readonly SweepCluster _cluster = new();

    // Trials of the tests that kill or freeze a worker run long and without early stopping: the one hit after its second
    // epoch (about 0.1 s each here) is seconds from its result. (One that reported its result before its node died is
    // done, and does not run again: SweepManagerTests.)
    private const int LongEpochs = 60;
    private const string Uninterrupted = "hidden_size: [8, 16]\n    learning_rate: [0.003, 0.01]\n    early_stopping_step: 0";

    [Fact]
    public void A_killed_workers_trial_resumes_on_the_other_worker_from_its_checkpoint_with_the_undisturbed_metrics()
    {
        _cluster.StartCoordinator();
        var (victim, victimAddress) = _cluster.StartWorker("worker-1");
        var (_, survivorAddress) = _cluster.StartWorker("worker-2");
        var yaml = SweepCluster.TinySweep("killed-worker", epochs: LongEpochs, grid: Uninterrupted);
        var id = _cluster.Submit(yaml);

        // Kill the victim once a trial of its own has checkpointed two epochs.
        var (trial, before) = _cluster.WaitUntil("two epochs of a trial on worker-1", () => RunningOn(id, victimAddress, epochs: 2));
        victim.KillHard();

        var end = _cluster.WaitForEnd(id);
        Assert.Equal(("finished", 4, 4), ((string)end["state"]!, (int)end["trials"]!, (int)end["completed"]!));
        var rows = _cluster.Finished(id);
        Assert.Equal([0, 1, 2, 3], rows.Keys.Order());
        Assert.Equal(2, rows[trial].Attempts);
        Assert.Contains(survivorAddress, rows[trial].Node, StringComparison.Ordinal);

        var history = _cluster.History(id, trial);
        var first = history.Where(h => h.Attempt == 1).ToList();
        var second = history.Where(h => h.Attempt == 2).ToList();
        // Both workers ran it: the first attempt on the victim, the second on the survivor.
        Assert.All(first, h => Assert.Contains(victimAddress, h.Node!, StringComparison.Ordinal));
        Assert.All(second, h => Assert.Contains(survivorAddress, h.Node!, StringComparison.Ordinal));
        // The second attempt went on after the checkpoint of an epoch the first one finished; it did not start over. (The
        // first attempt may have checkpointed an epoch whose report died with its worker: the second starts after that one.)
        Assert.True(second.Min(h => h.Epoch) > before, $"attempt 2 started at epoch {second.Min(h => h.Epoch)}, before {before}");
        Assert.Equal(history.Count, history.Distinct().Count());

        // The same file in local mode: the same trials with the same metrics, the interrupted one included.
        var local = LocalSweep(yaml);
        foreach (var (index, row) in rows)
        {
            Assert.Equal((double)local[index]["test:ndcg@10"]!, row.TestNdcg, 6);
            Assert.Equal((int)local[index]["best_epoch"]!, row.BestEpoch);
        }
    }

    [Fact]
    public void A_coordinator_killed_mid_sweep_and_restarted_on_its_state_finishes_it_adopting_the_trials_still_running()
    {
        _cluster.StartCoordinator();
        var (_, first) = _cluster.StartWorker("worker-1");
        var (_, second) = _cluster.StartWorker("worker-2");
        var id = _cluster.Submit(SweepCluster.TinySweep("coordinator-restart", epochs: 24));

        // Kill it while a trial is well under way on each worker.
        _cluster.WaitUntil("a trial under way on each worker", () =>
            RunningOn(id, first, epochs: 2) is not null && RunningOn(id, second, epochs: 2) is not null ? "" : null);
        var trialsBefore = _cluster.Trials(id);
        var finishedBefore = _cluster.Finished(id).Keys.ToHashSet();
        var runningBefore = trialsBefore.Where(t => t.Value.Status == "running").Select(t => t.Key).ToList();
        var epochsBefore = finishedBefore.ToDictionary(t => t, t => _cluster.History(id, t).Count);
        _cluster.Coordinator.KillHard();

        _cluster.StartCoordinator();
        var end = _cluster.WaitForEnd(id);
        Assert.Equal(("finished", 4), ((string)end["state"]!, (int)end["completed"]!));
        var rows = _cluster.Finished(id);
        Assert.Equal([0, 1, 2, 3], rows.Keys.Order());
        foreach (var t in finishedBefore)
        {
            // Finished before the kill: never ran again.
            Assert.Equal(1, rows[t].Attempts);
            Assert.Equal(epochsBefore[t], _cluster.History(id, t).Count);
        }
        // A trial running during the kill finished in the attempt it was in: taken over, not started again.
        Assert.Contains(runningBefore, t => rows[t].Attempts == 1);
        foreach (var t in rows.Keys)
        {
            var history = _cluster.History(id, t);
            Assert.Equal(history.Count, history.Select(h => (h.Attempt, h.Epoch)).Distinct().Count());
        }
    }

    [Fact]
    public void A_frozen_worker_is_downed_its_trial_runs_again_elsewhere_and_nothing_it_sends_late_is_recorded()
    {
        _cluster.StartCoordinator();
        var (frozen, frozenAddress) = _cluster.StartWorker("worker-1");
        _cluster.StartWorker("worker-2");
        var id = _cluster.Submit(SweepCluster.TinySweep("frozen-worker", epochs: LongEpochs, grid: Uninterrupted));

        var (trial, _) = _cluster.WaitUntil("two epochs of a trial on worker-1", () => RunningOn(id, frozenAddress, epochs: 2));
        frozen.Freeze();
        var downed = _cluster.Coordinator.WaitFor("member-removed of worker-1",
            e => (string?)e["event"] == "member-removed" && (string?)e["address"] == frozenAddress);
        Assert.Equal("down", (string)downed["previous"]!);
        var firstAttempt = _cluster.History(id, trial).Where(h => h.Attempt == 1).ToList();
        frozen.Thaw();
        // Thawed, it finds its cluster gone and joins again as a new member (or, downed, exits): the attempt it still holds is
        // refused and stopped, and whatever it still sends about it is not recorded.
        frozen.WaitFor("rejoining", e => (string?)e["event"] == "rejoining");

        var end = _cluster.WaitForEnd(id);
        Assert.Equal(("finished", 4), ((string)end["state"]!, (int)end["completed"]!));
        var rows = _cluster.Finished(id);
        Assert.Equal([0, 1, 2, 3], rows.Keys.Order());
        Assert.Equal(2, rows[trial].Attempts);
        Assert.Equal(firstAttempt, _cluster.History(id, trial).Where(h => h.Attempt == 1).ToList());
    }

    [Fact]
    public void Two_sweeps_submitted_together_both_finish_sharing_the_slots()
    {
        _cluster.StartCoordinator();
        _cluster.StartWorker("worker-1");
        _cluster.StartWorker("worker-2");
        var a = _cluster.Submit(SweepCluster.TinySweep("sweep-a", epochs: 3));
        var b = _cluster.Submit(SweepCluster.TinySweep("sweep-b", epochs: 3));

        foreach (var id in new[] { a, b })
        {
            Assert.Equal("finished", (string)_cluster.WaitForEnd(id)["state"]!);
            Assert.Equal([0, 1, 2, 3], _cluster.Finished(id).Keys.Order());
        }
        // Interleaved: in the order trials started, each sweep started one before the other had started its last.
        var order = new[] { a, b }.SelectMany(id => _cluster.Trials(id).Values.Select(t => (Sweep: id, t.Attempts, Started: t.Started!)))
            .OrderBy(t => t.Started, StringComparer.Ordinal).ToList();
        Assert.All(order, t => Assert.Equal(1, t.Attempts));
        var sweepOrder = order.Select(t => t.Sweep).ToList();
        Assert.True(sweepOrder.IndexOf(b) < sweepOrder.LastIndexOf(a), string.Join(" ", sweepOrder));
        Assert.True(sweepOrder.IndexOf(a) < sweepOrder.LastIndexOf(b), string.Join(" ", sweepOrder));
        var sweeps = _cluster.Get("/api/sweeps").AsObject()["sweeps"]!.AsArray();
        Assert.Equal(2, sweeps.Count);
        var cluster = _cluster.Get("/api/cluster").AsObject();
        Assert.Equal(2, (int)cluster["slots_total"]!);
    }

    public void Dispose() => _cluster.Dispose();

    /// <summary>A trial now running on the node with at least <paramref name="epochs"/> epochs recorded: (trial, its last epoch).</summary>
    private Tuple<int, int>? RunningOn(string id, string address, int epochs)
    {
        foreach (var (index, trial) in _cluster.Trials(id))
        {
            if (trial.Status != "running" || trial.Node is not { } node || !node.Contains(address, StringComparison.Ordinal)) continue;
            var history = _cluster.History(id, index).Where(h => h.Attempt == trial.Attempts).ToList();
            if (history.Count >= epochs) return Tuple.Create(index, history.Max(h => h.Epoch));
        }
        return null;
    }

    /// <summary>Runs the sweep in local mode (<c>reccluster sweep</c>) and returns its leaderboard rows by trial.</summary>
    private Dictionary<int, JsonObject> LocalSweep(string yaml)
    {
        var file = Path.Combine(_cluster.Folder, "local.yaml");
        File.WriteAllText(file, yaml);
        var state = Path.Combine(_cluster.Folder, "local-state");
        Assert.Equal(0, Cli(["sweep", file, "--state", state, "--slots", "1"]).Exit);
        var (exit, stdout) = Cli(["leaderboard", "--state", state, "--top", "100", "--format", "json"]);
        Assert.Equal(0, exit);
        return JsonNode.Parse(stdout)!.AsArray().Select(r => r!.AsObject()).ToDictionary(r => (int)r["trial"]!);
    }

    private static (int Exit, string Stdout) Cli(string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "reccluster.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(SweepCluster.SweepPatience), "reccluster " + string.Join(' ', args) + " did not finish");
        Assert.True(process.ExitCode == 0, stderr.Result);
        return (process.ExitCode, stdout.Result);
    }
}
