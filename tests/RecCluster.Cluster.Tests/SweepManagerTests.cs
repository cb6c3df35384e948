using System.Collections.Concurrent;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

public sealed class SweepManagerTests() : TestKit(TestSystems.SerializeMessages), IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly SweepFiles _files = new();
    private readonly ConcurrentQueue<AttemptId> _started = new();
    // The actors (the leaderboard holds its store open) stop before their folder goes.
    void IDisposable.Dispose() { Shutdown(); _files.Dispose(); }

    /// <summary>Simulated trials that record the order they start in; <paramref name="hang"/> ones run until killed.</summary>
    private SimulatedTrialLauncher Launcher(Func<AttemptId, bool>? hang = null) =>
        new(Sys.Scheduler, TimeSpan.FromMilliseconds(2), run =>
        {
            _started.Enqueue(run.Id);
            return new SimulatedTrial("ndcg@10", e => 0.1 * e, 3, HangAtEpoch: hang?.Invoke(run.Id) == true ? 2 : null);
        });

    /// <summary>A manager with the leaderboard and the given sweeps submitted before the worker's slots register.</summary>
    private (IActorRef Manager, IActorRef Leaderboard, IActorRef Worker, string[] Ids) Start(int slots, ITrialLauncher launcher,
        IActorRef? subscriber,
        params string[] yamls)
    {
        var leaderboard = Sys.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(_files.State)));
        if (subscriber is not null) leaderboard.Tell(new SubscribeLeaderboard(subscriber));
        var manager = Sys.ActorOf(SweepManager.Props(leaderboard));
        var ids = yamls.Select((yaml, i) =>
        {
            manager.Tell(new SubmitSweep(_files.Load(yaml, $"sweep{i}.yaml").Source));
            return ExpectMsg<SweepAccepted>().SweepId;
        }).ToArray();
        var worker = Sys.ActorOf(WorkerAgent.Props(manager, WorkerAgent.PlanSlots(slots, 0, 0), launcher, TimeSpan.FromSeconds(30)));
        return (manager, leaderboard, worker, ids);
    }

    private SweepFinished AwaitEnd(IActorRef manager, string id)
    {
        manager.Tell(new WatchSweep(id));
        return ExpectMsg<SweepFinished>(Patience);
    }

    private static string Named(string name, string extra = "") => SweepFiles.Grid(3, extra).Replace("name: t", $"name: {name}");

    [Fact]
    public void Two_sweeps_submitted_together_share_the_slots_and_both_finish()
    {
        var (manager, _, _, ids) = Start(2, Launcher(), null, Named("a"), Named("b"));
        foreach (var end in ids.Select(id => AwaitEnd(manager, id)))
            Assert.Equal((SweepState.Finished, 9), (end.State, end.Summary.Completed));

        var order = _started.Select(s => s.SweepId).ToList();
        Assert.Equal(18, order.Count);
        // Round-robin: each sweep started trials before the other had started its last one, so neither waited for the other.
        Assert.True(order.IndexOf(ids[1]) < order.LastIndexOf(ids[0]), string.Join(" ", order));
        Assert.True(order.IndexOf(ids[0]) < order.LastIndexOf(ids[1]), string.Join(" ", order));
    }

    [Fact]
    public void Cancelling_a_sweep_stops_its_running_trial_and_leaves_the_other_sweep_running()
    {
        var updates = CreateTestProbe();
        // Sweep a's trials never end by themselves; it holds at most one slot, so sweep b always has the other.
        var launcher = Launcher(hang: id => id.SweepId.StartsWith("a-"));
        var (manager, leaderboard, _, ids) = Start(2, launcher, updates.Ref, Named("a", "max_concurrent_trials: 1"), Named("b"));
        var (a, b) = (ids[0], ids[1]);
        updates.FishForMessage<TrialUpdated>(u => u.SweepId == a && u.Epoch == 1, Patience);
        updates.FishForMessage<TrialUpdated>(u => u.SweepId == b && u.Status == TrialStatus.Running, Patience);

        manager.Tell(new CancelSweep(a));
        Assert.Equal(SweepState.Cancelled, ExpectMsg<SweepStatus>().State);
        manager.Tell(new GetSweepStatus(b));
        Assert.Equal(SweepState.Running, ExpectMsg<SweepStatus>().State);

        var cancelled = AwaitEnd(manager, a);
        Assert.Equal((SweepState.Cancelled, 1, 0), (cancelled.State, cancelled.Summary.Interrupted, cancelled.Summary.Completed));
        var finished = AwaitEnd(manager, b);
        Assert.Equal((SweepState.Finished, 9), (finished.State, finished.Summary.Completed));
        Assert.Equal(0, launcher.Running);

        leaderboard.Tell(new QueryTrials(a));
        var trial = Assert.Single(ExpectMsg<StoredTrials>().Trials);
        Assert.Equal((TrialStatus.Interrupted, 1), (trial.Status, trial.Attempts));
        manager.Tell(new ListSweeps());
        Assert.Equal([(a, SweepState.Cancelled), (b, SweepState.Finished)],
            ExpectMsg<SweepList>().Sweeps.Select(s => (s.Summary.SweepId, s.State)));
    }

    [Fact]
    public void A_result_reported_before_its_worker_was_lost_stands_and_the_trial_does_not_run_again()
    {
        var updates = CreateTestProbe();
        // Trial 0's first attempt reports its result, then its process stays, as on a node that froze before the exit.
        var lingering = new SimulatedTrialLauncher(Sys.Scheduler, TimeSpan.FromMilliseconds(2), run =>
        {
            _started.Enqueue(run.Id);
            return new SimulatedTrial("ndcg@10", e => 0.1 * e, 3, LingerAfterResult: run.Id is { Index: 0, Attempt: 1 });
        });
        var (manager, leaderboard, worker, ids) = Start(1, lingering, updates.Ref, Named("lost"));
        updates.FishForMessage<TrialUpdated>(u => u is { Index: 0, Status: TrialStatus.Completed }, Patience);

        Watch(worker);
        Sys.Stop(worker);
        ExpectTerminated(worker);
        Sys.ActorOf(WorkerAgent.Props(manager, WorkerAgent.PlanSlots(1, 0, 0), Launcher(), TimeSpan.FromSeconds(30)));

        var end = AwaitEnd(manager, ids[0]);
        Assert.Equal((SweepState.Finished, 9, 0), (end.State, end.Summary.Completed, end.Summary.Failed));
        Assert.Equal([1], _started.Where(id => id.Index == 0).Select(id => id.Attempt));
        leaderboard.Tell(new QueryTrials(ids[0]));
        var trial = ExpectMsg<StoredTrials>().Trials.Single(t => t.Index == 0);
        Assert.Equal((TrialStatus.Completed, 1, 3), (trial.Status, trial.Attempts, trial.EpochsRun));
    }

    [Fact]
    public void A_sweep_submitted_while_every_slot_is_busy_stays_queued_until_a_slot_frees()
    {
        var updates = CreateTestProbe();
        var (manager, _, _, ids) = Start(1, Launcher(hang: id => id.SweepId.StartsWith("a-")), updates.Ref, Named("a"));
        updates.FishForMessage<TrialUpdated>(u => u.Epoch == 1, Patience);
        manager.Tell(new SubmitSweep(_files.Load(Named("b"), "b.yaml").Source));
        var b = ExpectMsg<SweepAccepted>().SweepId;
        manager.Tell(new GetSweepStatus(b));
        Assert.Equal(SweepState.Queued, ExpectMsg<SweepStatus>().State);

        manager.Tell(new CancelSweep(ids[0]));
        ExpectMsg<SweepStatus>();
        Assert.Equal(SweepState.Cancelled, AwaitEnd(manager, ids[0]).State);
        var finished = AwaitEnd(manager, b);
        Assert.Equal((SweepState.Finished, 9), (finished.State, finished.Summary.Completed));
        Assert.All(_started.SkipWhile(id => id.SweepId == ids[0]), id => Assert.Equal(b, id.SweepId));
    }

    [Fact]
    public void A_sweep_submitted_again_after_it_ended_runs_nothing_twice()
    {
        var (manager, _, _, ids) = Start(2, Launcher(), null, Named("a"));
        Assert.Equal(SweepState.Finished, AwaitEnd(manager, ids[0]).State);
        for (int again = 0; again < 2; again++)
        {
            manager.Tell(new SubmitSweep(_files.Load(Named("a"), "again.yaml").Source));
            Assert.Equal(ids[0], ExpectMsg<SweepAccepted>().SweepId);
            var end = AwaitEnd(manager, ids[0]);
            Assert.Equal((SweepState.Finished, 9, 27L), (end.State, end.Summary.Completed, end.Summary.TotalEpochs));
        }
        Assert.Equal(9, _started.Count);
    }

    [Fact]
    public void Unknown_sweeps_and_invalid_texts_are_answered()
    {
        var (manager, _, _, _) = Start(1, Launcher(), null);
        manager.Tell(new GetSweepStatus("nope"));
        Assert.Equal("nope", ExpectMsg<UnknownSweep>().SweepId);
        manager.Tell(new CancelSweep("nope"));
        ExpectMsg<UnknownSweep>();
        manager.Tell(new SubmitSweep(new Core.Config.SweepSource(Path.Combine(_files.Folder, "bad.yaml"), "models: [")));
        Assert.Contains("bad.yaml", ExpectMsg<SweepRejected>().Error);
        manager.Tell(new ListSweeps());
        Assert.Empty(ExpectMsg<SweepList>().Sweeps);
    }

    [Fact]
    public void The_manager_answers_leaderboard_queries_and_reports_its_workers_slots()
    {
        var (manager, leaderboard, _, ids) = Start(2, Launcher(hang: _ => true), null, Named("a", "max_concurrent_trials: 1"));
        AwaitAssert(() =>
        {
            manager.Tell(new GetClusterState());
            var worker = Assert.Single(ExpectMsg<ClusterState>().Workers);
            Assert.Equal((2, 1, 1), (worker.Total, worker.Busy, worker.Free));
            Assert.StartsWith("akka://", worker.Node);
        }, Patience);
        manager.Tell(new GetClusterState());
        Assert.Empty(ExpectMsg<ClusterState>().Members);   // no cluster in this actor system

        manager.Tell(new QuerySweeps());
        Assert.Equal(ids, ExpectMsg<SweepRows>().Sweeps.Select(s => s.Id));
        manager.Tell(new QueryTrials(ids[0]));
        var viaManager = ExpectMsg<StoredTrials>().Trials;
        leaderboard.Tell(new QueryTrials(ids[0]));
        Assert.Equal(ExpectMsg<StoredTrials>().Trials.Select(t => (t.Index, t.Status)), viaManager.Select(t => (t.Index, t.Status)));
        manager.Tell(new QueryTop(ids[0], "ndcg@10", true, 5));
        ExpectMsg<LeaderboardRows>();
        manager.Tell(new QueryHistory(ids[0], 0));
        ExpectMsg<TrialHistory>();
        manager.Tell(new QueryGroups(ids[0], "hidden_size", "ndcg@10"));
        ExpectMsg<TrialGroups>();
        manager.Tell(new CancelSweep(ids[0]));
        ExpectMsg<SweepStatus>();
    }
}
