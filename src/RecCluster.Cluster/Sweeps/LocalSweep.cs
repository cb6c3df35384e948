using Akka.Actor;
using Akka.Configuration;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Sweeps;

/// <summary>
/// Local single-node mode: the sweep manager with the sweep's coordinator, one worker agent and the leaderboard in one
/// actor system, the same actors the cluster runs. Results are read through the leaderboard actor, which owns the store.
/// </summary>
public sealed class LocalSweep : IAsyncDisposable
{
    /// <summary>The local actor system: quiet, with the protocol serializer a cluster node uses too.</summary>
    public static readonly Config SystemConfig = ConfigurationFactory.ParseString("""
        # Log only warnings, on stderr (stdout carries results); the CLI shows progress itself.
        akka.loglevel = WARNING
        akka.stdout-loglevel = OFF
        akka.loggers = ["RecCluster.Cluster.Nodes.StderrLogger, RecCluster.Cluster"]
        akka.log-dead-letters = off
        """).WithFallback(ClusterConfigs.Serialization);

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(30);
    private static int _runs;
    private readonly ActorSystem _system;
    private readonly IActorRef _manager, _worker, _leaderboard;

    /// <summary>Submits the sweep (recording its data files' hashes now); it starts running at once.</summary>
    public LocalSweep(SweepConfig config, string stateDirectory, IReadOnlyList<Slot> slots, ITrialLauncher launcher,
        TimeSpan heartbeatTimeout, IActorRef? subscriber = null, ActorSystem? system = null)
        : this(config, new StoreLocation.StateDirectory(stateDirectory), slots, launcher, heartbeatTimeout, subscriber, system)
    {
    }

    /// <summary>The same with the leaderboard in another store (a PostgreSQL database).</summary>
    public LocalSweep(SweepConfig config, StoreLocation store, IReadOnlyList<Slot> slots, ITrialLauncher launcher,
        TimeSpan heartbeatTimeout, IActorRef? subscriber = null, ActorSystem? system = null)
    {
        SweepId = config.Id;
        _system = system ?? ActorSystem.Create("reccluster", SystemConfig);
        OwnsSystem = system is null;
        // Names carry a run number: a stopped run's names are freed by the system only some time after its actors stop, and
        // the next run on a shared actor system (a test's) may start before that.
        int run = Interlocked.Increment(ref _runs);
        _leaderboard = _system.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(store)), $"leaderboard-{SweepId}-{run}");
        if (subscriber is not null) _leaderboard.Tell(new SubscribeLeaderboard(subscriber));
        // Trials finished before this run, read before the manager starts any.
        PreviouslyFinished = Trials().Result.Count(t => TrialStatus.IsFinal(t.Status));
        _manager = _system.ActorOf(SweepManager.Props(_leaderboard), $"sweeps-{SweepId}-{run}");
        var reply = _manager.Ask(new SubmitSweep(config.Source), QueryTimeout).Result;
        if (reply is SweepRejected rejected) throw new InvalidOperationException(rejected.Error);
        _worker = _system.ActorOf(WorkerAgent.Props(_manager, slots, launcher, heartbeatTimeout), $"worker-{SweepId}-{run}");
    }

    public string SweepId { get; }
    public int PreviouslyFinished { get; }
    public ActorSystem System => _system;
    public IActorRef Manager => _manager;
    private bool OwnsSystem { get; }

    public Task<SweepFinished> RunAsync() => _manager.Ask<SweepFinished>(new WatchSweep(SweepId), Timeout.InfiniteTimeSpan);

    /// <summary>Cancels the sweep (Ctrl+C): running trials are stopped and recorded as interrupted; a re-run resumes them.</summary>
    public void Abort() => _manager.Tell(new CancelSweep(SweepId));

    public async Task<IReadOnlyList<StoredTrial>> Trials() =>
        (await _leaderboard.Ask<StoredTrials>(new QueryTrials(SweepId), QueryTimeout)).Trials;

    public async Task<IReadOnlyList<LeaderboardRow>> Top(string metric, bool maximize, int k) =>
        (await _leaderboard.Ask<LeaderboardRows>(new QueryTop(SweepId, metric, maximize, k), QueryTimeout)).Rows;

    public async Task<IReadOnlyList<EpochRow>> History(int index) =>
        (await _leaderboard.Ask<TrialHistory>(new QueryHistory(SweepId, index), QueryTimeout)).Epochs;

    public async ValueTask DisposeAsync()
    {
        if (OwnsSystem) await _system.Terminate();
        else
        {
            // Stopping the worker kills any trial still running (its supervisors stop with it); the leaderboard closes its store.
            await _worker.GracefulStop(TimeSpan.FromSeconds(10));
            await _manager.GracefulStop(TimeSpan.FromSeconds(10));
            await _leaderboard.GracefulStop(TimeSpan.FromSeconds(10));
        }
    }
}
