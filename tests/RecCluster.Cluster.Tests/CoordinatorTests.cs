using Akka.Actor;
using Akka.TestKit.Xunit2;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

public sealed class CoordinatorTests() : TestKit(TestSystems.SerializeMessages), IDisposable
{
    private readonly SweepFiles _files = new();
    // The actors (the leaderboard holds its store open) stop before their folder goes.
    void IDisposable.Dispose() { Shutdown(); _files.Dispose(); }

    /// <summary>Simulated objective: grows with epochs towards a ceiling set by the trial's hyperparameters.</summary>
    private static SimulatedTrial Plan(RunTrial run, int epochs, int? failAt = null, int? hangAt = null)
    {
        double lr = (double)run.Spec.Params["learning_rate"];
        long hidden = (long)run.Spec.Params["hidden_size"];
        long inner = run.Spec.Params.TryGetValue("inner_size", out var i) ? (long)i : 64;
        double ceiling = 0.2 + lr * 100 + hidden / 640.0 + inner / 6400.0;
        return new SimulatedTrial("ndcg@10", e => ceiling * (1 - Math.Exp(-e / 3.0)), epochs, FailAtEpoch: failAt, HangAtEpoch: hangAt);
    }

    private async Task<(SweepSummary Summary, IReadOnlyList<StoredTrial> Trials, long Epochs)> Run(SweepConfig config, ITrialLauncher launcher, int slots, TimeSpan? heartbeat = null)
    {
        await using var sweep = new LocalSweep(config, _files.State, WorkerAgent.PlanSlots(slots, 0, 0), launcher, heartbeat ?? TimeSpan.FromSeconds(30), system: Sys);
        var finished = await sweep.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (finished.Summary, await sweep.Trials(), finished.Summary.TotalEpochs);
    }

    [Fact]
    public async Task Runs_every_trial_within_the_concurrency_limit()
    {
        var config = _files.Load(SweepFiles.Grid(6, "max_concurrent_trials: 3"));
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(5), r => Plan(r, 6));
        var (summary, trials, epochs) = await Run(config, launcher, slots: 8);
        Assert.Equal(9, summary.Trials);
        Assert.Equal(9, trials.Count(t => t.Status == TrialStatus.Completed));
        Assert.Equal(3, launcher.MaxRunning);
        Assert.Equal(9 * 6, epochs);
    }

    [Fact]
    public async Task Failed_attempts_are_retried_up_to_max_failures()
    {
        var config = _files.Load(SweepFiles.Grid(4, "max_failures: 1"));
        // Trial 1 crashes on its first attempt only; trial 2 crashes every time.
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(2), r =>
            Plan(r, 4, failAt: (r.Id.Index, r.Id.Attempt) switch { (1, 1) => 3, (2, _) => 2, _ => null }));
        var (summary, trials, _) = await Run(config, launcher, slots: 2);
        Assert.Equal(TrialStatus.Completed, trials.Single(t => t.Index == 1).Status);
        Assert.Equal(2, trials.Single(t => t.Index == 1).Attempts);
        var doomed = trials.Single(t => t.Index == 2);
        Assert.Equal((TrialStatus.Failed, 2), (doomed.Status, doomed.Attempts));
        Assert.Contains("simulated crash", doomed.Note);
        Assert.Equal(1, summary.Failed);
        Assert.Equal(8, summary.Completed);
        Assert.Equal(9 + 2, launcher.Launched);
    }

    [Fact]
    public async Task A_trial_that_stops_reporting_is_killed_and_counted_as_failed()
    {
        var config = _files.Load(SweepFiles.Grid(3, "max_failures: 0"));
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(2), r => Plan(r, 3, hangAt: r.Id.Index == 4 ? 2 : null));
        var (_, trials, _) = await Run(config, launcher, slots: 3, heartbeat: TimeSpan.FromSeconds(1));
        var hung = trials.Single(t => t.Index == 4);
        Assert.Equal(TrialStatus.Failed, hung.Status);
        Assert.Contains("hung", hung.Note);
        Assert.Equal(8, trials.Count(t => t.Status == TrialStatus.Completed));
        Assert.Equal(0, launcher.Running);
    }

    [Fact]
    public async Task A_trial_that_reports_its_result_but_does_not_exit_is_killed_and_its_result_stands()
    {
        var config = _files.Load(SweepFiles.Grid(2));
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(2),
            r => Plan(r, 2) with { LingerAfterResult = r.Id.Index == 3 });
        var (summary, trials, _) = await Run(config, launcher, slots: 2, heartbeat: TimeSpan.FromSeconds(1));
        Assert.Equal((9, 0), (summary.Completed, summary.Failed));
        Assert.Equal((TrialStatus.Completed, 1, 2), (trials[3].Status, trials[3].Attempts, trials[3].EpochsRun));
        Assert.Equal((9, 0), (launcher.Launched, launcher.Running));
    }

    [Fact]
    public async Task A_pruned_trial_whose_process_ends_before_its_result_stays_pruned_and_does_not_run_again()
    {
        // Rungs at epochs 1 and 2: trial 0 (0.9) is first at each and continues; trial 1 (0.1) is below the median at the
        // first and pruned. Its first attempt goes silent instead of stopping, so its worker kills it after a second.
        var config = _files.Load(SweepFiles.Grid(4, scheduler: "{asha: {grace_period: 1, reduction_factor: 2, max_t: 4}}"));
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => new SimulatedTrial("ndcg@10",
            _ => r.Id.Index == 0 ? 0.9 : 0.1, 4, HangAtEpoch: r.Id is { Index: 1, Attempt: 1 } ? 2 : null));
        var (summary, trials, _) = await Run(config, launcher, slots: 1, heartbeat: TimeSpan.FromSeconds(1));
        Assert.Equal((TrialStatus.Pruned, 1), (trials[1].Status, trials[1].Attempts));
        Assert.StartsWith("pruned; its process ended before its result", trials[1].Note);
        Assert.Equal((9, 0), (summary.Completed + summary.Pruned, summary.Failed));
        Assert.Equal(9, launcher.Launched);
    }

    [Fact]
    public async Task Asha_prunes_weak_trials_and_spends_fewer_epochs_than_fifo()
    {
        // 27 random draws from a 3 x 3 x 3 space (a sorted grid would present trials weakest first), 3 slots, 27 epochs each.
        static string Wide(string yaml) => yaml.Replace("    n_epochs: 27", "    n_epochs: 27\n    inner_size: [32, 64, 128]") + "\nsearch: {algorithm: random, num_trials: 27, seed: 1}\n";
        var fifoConfig = _files.Load(Wide(SweepFiles.Grid(27)), "fifo.yaml");
        var fifo = await Run(fifoConfig, new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => Plan(r, 27)), slots: 3);
        var ashaConfig = _files.Load(Wide(SweepFiles.Grid(27, scheduler: "{asha: {grace_period: 1, reduction_factor: 3, max_t: 27}}")), "asha.yaml");
        var asha = await Run(ashaConfig, new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => Plan(r, 27)), slots: 3);
        Assert.Equal(27 * 27, fifo.Epochs);
        Assert.True(asha.Epochs < fifo.Epochs * 0.6, $"ASHA {asha.Epochs} vs FIFO {fifo.Epochs} epochs");
        Assert.Contains(asha.Trials, t => t.Status == TrialStatus.Pruned);
        Assert.All(asha.Trials.Where(t => t.Status == TrialStatus.Pruned), t => Assert.True(t.EpochsRun < 27));
        double Best(IReadOnlyList<StoredTrial> trials) => trials.Max(t => t.Objective ?? 0);
        Assert.True(Best(asha.Trials) >= 0.98 * Best(fifo.Trials), $"ASHA best {Best(asha.Trials)} vs FIFO {Best(fifo.Trials)}");
    }

    [Fact]
    public async Task The_time_budget_stops_running_trials_and_starts_no_more()
    {
        var config = _files.Load(SweepFiles.Grid(1000, "time_budget: 1s"));
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(20), r => Plan(r, 1000));
        var (summary, trials, _) = await Run(config, launcher, slots: 2);
        Assert.Equal(2, launcher.Launched);
        var ran = trials.Where(t => t.Status == TrialStatus.Completed).ToList();
        Assert.Equal(2, ran.Count);
        Assert.All(ran, t => Assert.Equal("stopped by the time budget", t.Note));
        Assert.All(ran, t => Assert.InRange(t.EpochsRun!.Value, 1, 999));
        Assert.Equal(2, summary.Completed);
    }

    [Fact]
    public async Task Resuming_runs_only_the_trials_that_did_not_finish()
    {
        var config = _files.Load(SweepFiles.Grid(3));
        var first = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => Plan(r, 3));
        var firstRun = await Run(config, first, slots: 2);
        Assert.Equal(9, first.Launched);

        var again = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => Plan(r, 3));
        var secondRun = await Run(config, again, slots: 2);
        Assert.Equal(0, again.Launched);
        Assert.Equal(firstRun.Epochs, secondRun.Epochs);
        Assert.Equal(firstRun.Trials.Select(t => (t.Index, t.Status, t.Objective)), secondRun.Trials.Select(t => (t.Index, t.Status, t.Objective)));
    }

    [Fact]
    public async Task An_aborted_sweep_keeps_finished_trials_and_resumes_the_rest()
    {
        var config = _files.Load(SweepFiles.Grid(4));
        var probe = CreateTestProbe();
        var slow = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => Plan(r, 4, hangAt: r.Id.Index >= 2 ? 2 : null));
        await using (var sweep = new LocalSweep(config, _files.State, WorkerAgent.PlanSlots(2, 0, 0), slow, TimeSpan.FromSeconds(30), probe.Ref, Sys))
        {
            var run = sweep.RunAsync();
            // Wait until trials 0 and 1 finished and 2 and 3 are stuck in their second epoch, then abort.
            probe.FishForMessage<TrialUpdated>(u => u.Index == 3 && u.Epoch == 1, TimeSpan.FromSeconds(10));
            sweep.Abort();
            var summary = (await run.WaitAsync(TimeSpan.FromSeconds(10))).Summary;
            Assert.Equal(2, summary.Interrupted);
            var trials = await sweep.Trials();
            Assert.Equal(2, trials.Count(t => t.Status == TrialStatus.Completed));
            Assert.Equal(2, trials.Count(t => t.Status == TrialStatus.Interrupted));
        }
        var rest = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => Plan(r, 4));
        var (summary2, all, _) = await Run(config, rest, slots: 2);
        Assert.Equal(7, rest.Launched);   // the 2 interrupted ones again, and the 5 never started
        Assert.Equal(9, all.Count(t => t.Status == TrialStatus.Completed));
        Assert.Equal(2, all.Where(t => t.Index is 2 or 3).Min(t => t.Attempts));
    }

    [Fact]
    public async Task A_restarted_coordinator_rebuilds_the_asha_rungs_and_never_reruns_finished_trials()
    {
        // Rungs at epochs 1 and 2; the first trial at a rung always continues, a later one only at or above the median.
        var config = _files.Load(SweepFiles.Grid(4, scheduler: "{asha: {grace_period: 1, reduction_factor: 2, max_t: 4}}"));
        var probe = CreateTestProbe();
        // First run, one slot: trial 0 sets the rungs at 0.9 and completes; trial 1 starts, stays silent, is interrupted.
        var first = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1),
            r => new SimulatedTrial("ndcg@10", _ => 0.9, 4, HangAtEpoch: r.Id.Index == 1 ? 1 : null));
        var slot = WorkerAgent.PlanSlots(1, 0, 0);
        await using (var sweep = new LocalSweep(config, _files.State, slot, first, TimeSpan.FromSeconds(30), probe.Ref, Sys))
        {
            probe.FishForMessage<TrialUpdated>(u => u is { Index: 1, Status: TrialStatus.Running, Epoch: null }, TimeSpan.FromSeconds(10));
            sweep.Abort();
            var summary = (await sweep.RunAsync().WaitAsync(TimeSpan.FromSeconds(10))).Summary;
            Assert.Equal((1, 1), (summary.Completed, summary.Interrupted));
        }

        // Second run on the same store: every trial scores 0.1. Only a rung rebuilt from trial 0's stored epochs prunes
        // trial 1 at its first rung; with empty rungs it would be the first there and continue to max_t.
        var launched = new List<AttemptId>();
        var again = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r =>
        {
            lock (launched) launched.Add(r.Id);
            return new SimulatedTrial("ndcg@10", _ => 0.1, 4);
        });
        await using (var sweep = new LocalSweep(config, _files.State, slot, again, TimeSpan.FromSeconds(30), system: Sys))
        {
            Assert.Equal(1, sweep.PreviouslyFinished);
            var summary = (await sweep.RunAsync().WaitAsync(TimeSpan.FromSeconds(30))).Summary;
            var trials = await sweep.Trials();
            Assert.DoesNotContain(launched, id => id.Index == 0);
            Assert.Equal((TrialStatus.Completed, 1), (trials[0].Status, trials[0].Attempts));
            Assert.Equal((TrialStatus.Pruned, 2), (trials[1].Status, trials[1].Attempts));
            Assert.Equal(new AttemptId(sweep.SweepId, 1, 2), launched[0]);
            Assert.Equal(8, launched.Count);   // trials 1 to 8, once each
            Assert.Equal(9, summary.Completed + summary.Pruned);
        }
    }

    private static string OneTrial(string data = "{synthetic: {users: 60, items: 30, min_length: 5, max_length: 10}}") => $"""
        name: one
        data: {data}
        evaluation: {"{"}cutoffs: [10], metrics: [ndcg]{"}"}
        models:
          sasrec: {"{"}learning_rate: 0.001, hidden_size: 16, n_epochs: 5{"}"}
        max_failures: 1
        """;

    [Fact]
    public async Task A_stale_exit_of_an_earlier_attempt_leaves_the_live_attempt_running()
    {
        var config = _files.Load(OneTrial());
        var probe = CreateTestProbe();
        // Attempt 1 crashes at once; attempt 2 runs 5 epochs of 100 ms.
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(100),
            r => Plan(r, 5, failAt: r.Id.Attempt == 1 ? 1 : null));
        var slot = WorkerAgent.PlanSlots(1, 0, 0);
        await using var sweep = new LocalSweep(config, _files.State, slot, launcher, TimeSpan.FromSeconds(30), probe.Ref, Sys);
        var run = sweep.RunAsync();
        probe.FishForMessage<TrialUpdated>(u => u is { Attempt: 2, Status: TrialStatus.Running, Epoch: null }, TimeSpan.FromSeconds(10));

        // As if attempt 1's worker reported its exit again, late: the coordinator must not drop attempt 2 for it.
        var stale = new TrialExited(new AttemptId(sweep.SweepId, 0, 1), slot[0], "late");
        sweep.Manager.Tell(stale, TestActor);

        var summary = (await run.WaitAsync(TimeSpan.FromSeconds(10))).Summary;
        Assert.Equal((1, 0), (summary.Completed, summary.Failed));
        Assert.Equal(2, launcher.Launched);
        var trial = Assert.Single(await sweep.Trials());
        Assert.Equal((TrialStatus.Completed, 2, 5), (trial.Status, trial.Attempts, trial.EpochsRun));
        Assert.Equal([1, 2, 3, 4, 5], (await sweep.History(0)).Where(h => h.Attempt == 2).Select(h => h.Epoch));
        Assert.Equal(5, summary.TotalEpochs);
    }

    [Fact]
    public async Task Trials_get_the_sweep_text_as_submitted_even_when_the_file_is_edited_mid_sweep()
    {
        var config = _files.Load(SweepFiles.Grid(2));
        var texts = new List<string>();
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r =>
        {
            lock (texts) texts.Add(r.Spec.Sweep.Text);
            return Plan(r, 2);
        });
        await using var sweep = new LocalSweep(config, _files.State, WorkerAgent.PlanSlots(1, 0, 0), launcher, TimeSpan.FromSeconds(30),
            system: Sys);
        File.WriteAllText(config.Source.Path, "name: edited\n");
        await sweep.RunAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(9, texts.Count);
        Assert.All(texts, t => Assert.Equal(SweepFiles.Grid(2), t));
        Assert.Equal(SweepFiles.Grid(2), ExperimentLoader.LoadSweep(config.Source).Source.Text);
    }

    [Fact]
    public async Task A_data_file_changed_after_submission_fails_the_attempt_naming_the_node_and_the_file()
    {
        var data = Path.Combine(_files.Folder, "d.inter");
        File.WriteAllText(data, "user_id:token\titem_id:token\n1\t2\n");
        var config = _files.Load(OneTrial("{path: d.inter}").Replace("max_failures: 1", "max_failures: 0"));
        var launcher = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(1), r => Plan(r, 5));
        await using var sweep = new LocalSweep(config, _files.State, WorkerAgent.PlanSlots(1, 0, 0), launcher, TimeSpan.FromSeconds(30),
            system: Sys);
        File.AppendAllText(data, "3\t4\n");
        var summary = (await sweep.RunAsync().WaitAsync(TimeSpan.FromSeconds(10))).Summary;
        Assert.Equal(1, summary.Failed);
        Assert.Equal(0, launcher.Launched);
        var note = Assert.Single(await sweep.Trials()).Note;
        Assert.Contains($"on node {Environment.MachineName} (akka://{Sys.Name})", note);
        Assert.Contains($"data file {data} changed since the sweep was submitted", note);
    }
}
