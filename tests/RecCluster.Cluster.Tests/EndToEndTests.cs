using System.Diagnostics;
using Akka.TestKit.Xunit2;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

/// <summary>Real sweeps: every trial is a `reccluster trial` child process training SASRec on tiny synthetic data.</summary>
public sealed class EndToEndTests() : TestKit(TestSystems.SerializeMessages), IDisposable
{
    private readonly SweepFiles _files = new();
    // The actors (the leaderboard holds its store open) stop before their folder goes.
    void IDisposable.Dispose() { Shutdown(); _files.Dispose(); }

    /// <summary>
    /// Kills one attempt's process from outside (SIGKILL by pid) as soon as it reports the given epoch, on the
    /// thread that reads its output, so the process still has most of its epochs ahead of it.
    /// </summary>
    private sealed class KillingLauncher(ITrialLauncher inner, int index, int attempt, int atEpoch) : ITrialLauncher
    {
        private readonly TaskCompletionSource<ITrialHandle> _victim = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Killed { get; private set; }

        public ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit)
        {
            bool target = run.Id.Index == index && run.Id.Attempt == attempt;
            var handle = inner.Launch(run, e =>
            {
                if (target && e is TrialEpoch { Epoch: var epoch } && epoch == atEpoch)
                {
                    var pid = _victim.Task.Result.ProcessId!.Value;
                    try { Process.GetProcessById(pid).Kill(); Killed = true; }
                    catch (ArgumentException) { /* already exited: Killed stays false and the test fails */ }
                }
                onEvent(e);
            }, onExit);
            if (target) _victim.SetResult(handle);
            return handle;
        }
    }

    [Fact]
    public async Task A_killed_trial_process_is_retried_from_the_submitted_text_and_nothing_recorded_is_lost_or_doubled()
    {
        var config = _files.Load("""
            name: e2e
            data: {synthetic: {users: 1500, items: 200, clusters: 4, min_length: 10, max_length: 30, seed: 3}}
            evaluation: {cutoffs: [10], metrics: [hr, ndcg]}
            objective: {metric: ndcg@10, mode: max}
            models:
              sasrec: {hidden_size: [8, 16], inner_size: 16, max_seq_length: 30, batch_size: 64, n_epochs: 30, early_stopping_step: 0, device: cpu}
            max_failures: 1
            """);
        var processes = new ProcessTrialLauncher("dotnet", [Path.Combine(AppContext.BaseDirectory, "reccluster.dll")], Path.Combine(_files.State, "trials"));
        var launcher = new KillingLauncher(processes, index: 0, attempt: 1, atEpoch: 2);
        await using var sweep = new LocalSweep(config, _files.State, WorkerAgent.PlanSlots(2, 0, 0), launcher, TimeSpan.FromSeconds(60), system: Sys);
        // Trial processes parse the text shipped at submission: breaking the file now changes nothing.
        File.WriteAllText(config.Source.Path, "models: [");

        var summary = (await sweep.RunAsync().WaitAsync(TimeSpan.FromMinutes(3))).Summary;
        Assert.True(launcher.Killed, "the first attempt of trial 0 was killed mid-run");
        var trials = await sweep.Trials();
        Assert.Equal(2, summary.Completed);
        var killed = trials.Single(t => t.Index == 0);
        Assert.Equal((TrialStatus.Completed, 2), (killed.Status, killed.Attempts));
        var history = await sweep.History(0);
        var firstAttempt = history.Where(h => h.Attempt == 1).Select(h => h.Epoch).ToList();
        var secondAttempt = history.Where(h => h.Attempt == 2).Select(h => h.Epoch).ToList();
        Assert.True(firstAttempt.Count >= 2, "epochs reported before the kill are kept");
        Assert.True(firstAttempt.Count < 30, "the first attempt was cut short");
        Assert.Equal(Enumerable.Range(1, firstAttempt.Count), firstAttempt);          // each epoch once
        Assert.Equal(Enumerable.Range(1, 30), secondAttempt);
        Assert.Equal(30, killed.EpochsRun);
        var top = await sweep.Top("ndcg@10", true, 10);
        Assert.Equal(2, top.Count);
        Assert.All(top, r => Assert.InRange(r.Test["ndcg@10"], 0.0, 1.0));
        Assert.Equal(top[0].Trial.Objective!.Value, top[0].Valid["ndcg@10"], 6);
    }
}
