using Akka.Actor;
using Akka.Configuration;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Sweeps;

/// <summary>
/// Local single-node mode: the coordinator, one worker agent and the leaderboard in one actor system,
/// the same actors the cluster runs.
/// </summary>
public sealed class LocalSweep : IAsyncDisposable
{
    /// <summary>The local actor system: quiet, with the protocol serializer a cluster node uses too.</summary>
    public static readonly Config SystemConfig = ConfigurationFactory.ParseString("""
        # Log only warnings; the CLI shows progress itself.
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.log-dead-letters = off
        """).WithFallback(ClusterConfigs.Serialization);

    private readonly ActorSystem _system;
    private readonly LeaderboardStore _store;
    private readonly IActorRef _coordinator, _worker, _leaderboard;

    public LocalSweep(SweepConfig config, string stateDirectory, IReadOnlyList<Slot> slots, ITrialLauncher launcher, TimeSpan heartbeatTimeout, IActorRef? subscriber = null, ActorSystem? system = null)
        : this(config, new StoreLocation.StateDirectory(stateDirectory), slots, launcher, heartbeatTimeout, subscriber, system)
    {
    }

    public LocalSweep(SweepConfig config, StoreLocation store, IReadOnlyList<Slot> slots, ITrialLauncher launcher,
        TimeSpan heartbeatTimeout, IActorRef? subscriber = null, ActorSystem? system = null)
    {
        SweepId = config.Id;
        _store = new LeaderboardStore(store);
        var experiment = config.Experiment;
        var data = _store.EnsureSweep(SweepId, experiment.Name, config.Source, experiment.Objective, DataFile.Of(experiment.Data));
        var previous = _store.Trials(SweepId);
        _system = system ?? ActorSystem.Create("reccluster", SystemConfig);
        OwnsSystem = system is null;
        _leaderboard = _system.ActorOf(LeaderboardActor.Props(_store), $"leaderboard-{SweepId}");
        if (subscriber is not null) _leaderboard.Tell(new SubscribeLeaderboard(subscriber));
        _coordinator = _system.ActorOf(SweepCoordinator.Props(new SweepPlan(SweepId, config, data), _leaderboard, previous), $"coordinator-{SweepId}");
        _worker = _system.ActorOf(WorkerAgent.Props(_coordinator, slots, launcher, heartbeatTimeout), $"worker-{SweepId}");
        PreviouslyFinished = previous.Count(t => TrialStatus.IsFinal(t.Status));
    }

    public string SweepId { get; }
    public int PreviouslyFinished { get; }
    public ActorSystem System => _system;
    public LeaderboardStore Store => _store;
    private bool OwnsSystem { get; }

    public Task<SweepFinished> RunAsync() => _coordinator.Ask<SweepFinished>(new RunSweep(), Timeout.InfiniteTimeSpan);

    public void Abort() => _coordinator.Tell(new AbortSweep());

    public async ValueTask DisposeAsync()
    {
        if (OwnsSystem) await _system.Terminate();
        else
        {
            // Stopping the worker kills any trial still running (its supervisors stop with it).
            await _worker.GracefulStop(TimeSpan.FromSeconds(10));
            await _coordinator.GracefulStop(TimeSpan.FromSeconds(10));
            await _leaderboard.GracefulStop(TimeSpan.FromSeconds(10));
        }
        _store.Dispose();
    }
}
