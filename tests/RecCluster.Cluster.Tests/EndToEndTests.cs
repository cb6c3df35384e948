using System.Collections.Concurrent;
using System.Diagnostics;
using Akka.TestKit.Xunit2;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

/// <summary>Real sweeps: every trial is a `reccluster trial` child process training SASRec on tiny synthetic data.</summary>
public sealed class EndToEndTests : TestKit, IDisposable
{
    private readonly SweepFiles _files = new();
    void IDisposable.Dispose() { _files.Dispose(); Shutdown(); }

    /// <summary>Records each attempt's handle so the test can kill a trial's process from outside.</summary>
    private sealed class RecordingLauncher(ITrialLauncher inner) : ITrialLauncher
    {
        public ConcurrentDictionary<(int Index, int Attempt), ITrialHandle> Handles { get; } = new();

        public ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit) =>
            Handles[(run.Index, run.Attempt)] = inner.Launch(run, onEvent, onExit);
    }

    [Fact]
    public async Task A_killed_trial_process_is_retried_and_nothing_recorded_is_lost_or_doubled()
    {
        var config = _files.Load("""
            name: e2e
            data: {synthetic: {users: 120, items: 40, clusters: 4, min_length: 5, max_length: 12, seed: 3}}
            evaluation: {cutoffs: [10], metrics: [hr, ndcg]}
            objective: {metric: ndcg@10, mode: max}
            models:
              sasrec: {hidden_size: [8, 16], inner_size: 16, max_seq_length: 12, batch_size: 64, n_epochs: 60, early_stopping_step: 0, device: cpu}
            max_failures: 1
            """);
        var launcher = new RecordingLauncher(new ProcessTrialLauncher("dotnet", [Path.Combine(AppContext.BaseDirectory, "reccluster.dll")], Path.Combine(_files.State, "trials")));
        var probe = CreateTestProbe();
        await using var sweep = new LocalSweep(config, _files.State, WorkerAgent.PlanSlots(2, 0, 0), launcher, TimeSpan.FromSeconds(60), probe.Ref, Sys);
        var run = sweep.RunAsync();

        probe.FishForMessage<TrialUpdated>(u => u.Index == 0 && u.Attempt == 1 && u.Epoch == 2, TimeSpan.FromSeconds(60));
        var pid = launcher.Handles[(0, 1)].ProcessId!.Value;
        Process.GetProcessById(pid).Kill();   // SIGKILL from outside, mid-run

        var summary = (await run.WaitAsync(TimeSpan.FromMinutes(3))).Summary;
        var trials = sweep.Store.Trials(sweep.SweepId);
        Assert.Equal(2, summary.Completed);
        var killed = trials.Single(t => t.Index == 0);
        Assert.Equal((TrialStatus.Completed, 2), (killed.Status, killed.Attempts));
        var history = sweep.Store.History(sweep.SweepId, 0);
        var firstAttempt = history.Where(h => h.Attempt == 1).Select(h => h.Epoch).ToList();
        var secondAttempt = history.Where(h => h.Attempt == 2).Select(h => h.Epoch).ToList();
        Assert.True(firstAttempt.Count >= 2, "epochs reported before the kill are kept");
        Assert.True(firstAttempt.Count < 60, "the first attempt was cut short");
        Assert.Equal(Enumerable.Range(1, firstAttempt.Count), firstAttempt);          // each epoch once
        Assert.Equal(Enumerable.Range(1, 60), secondAttempt);
        Assert.Equal(60, killed.EpochsRun);
        var top = sweep.Store.Top(sweep.SweepId, "ndcg@10", true, 10);
        Assert.Equal(2, top.Count);
        Assert.All(top, r => Assert.InRange(r.Test["ndcg@10"], 0.0, 1.0));
        Assert.Equal(top[0].Trial.Objective!.Value, top[0].Valid["ndcg@10"], 6);
    }
}
