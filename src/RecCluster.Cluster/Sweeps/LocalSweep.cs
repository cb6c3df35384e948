using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Sweeps;

/// <summary>
/// Local single-node mode: the coordinator, one worker agent and the leaderboard in one actor system,
/// the same actors the cluster runs.
/// </summary>
public sealed class LocalSweep : IAsyncDisposable
{
    public static readonly Config QuietConfig = ConfigurationFactory.ParseString("""
        # Log only warnings; the CLI shows progress itself.
        akka.loglevel = WARNING
        akka.stdout-loglevel = WARNING
        akka.log-dead-letters = off
        """);

    private readonly ActorSystem _system;
    private readonly LeaderboardStore _store;
    private readonly IActorRef _coordinator, _worker, _leaderboard;

    public LocalSweep(SweepConfig config, string stateDirectory, IReadOnlyList<Slot> slots, ITrialLauncher launcher, TimeSpan heartbeatTimeout, IActorRef? subscriber = null, ActorSystem? system = null)
    {
        SweepId = IdOf(config);
        _store = new LeaderboardStore(stateDirectory);
        _store.EnsureSweep(SweepId, config.Experiment.Name, config.Experiment.SourceFile, config.Experiment.Objective.Metric, config.Experiment.Objective.Maximize);
        var previous = _store.Trials(SweepId);
        _system = system ?? ActorSystem.Create("reccluster", QuietConfig);
        OwnsSystem = system is null;
        _leaderboard = _system.ActorOf(LeaderboardActor.Props(_store), $"leaderboard-{SweepId}");
        if (subscriber is not null) _leaderboard.Tell(new SubscribeLeaderboard(subscriber));
        _coordinator = _system.ActorOf(SweepCoordinator.Props(new SweepPlan(SweepId, config.Experiment.SourceFile, config), _leaderboard, previous), $"coordinator-{SweepId}");
        _worker = _system.ActorOf(WorkerAgent.Props(_coordinator, slots, launcher, heartbeatTimeout), $"worker-{SweepId}");
        PreviouslyFinished = previous.Count(t => TrialStatus.IsFinal(t.Status));
    }

    public string SweepId { get; }
    public int PreviouslyFinished { get; }
    public ActorSystem System => _system;
    public LeaderboardStore Store => _store;
    private bool OwnsSystem { get; }

    /// <summary>The sweep's id: its name and a hash of the file's content, so an edited file is a new sweep.</summary>
    public static string IdOf(SweepConfig config)
    {
        var hash = SHA256.HashData(File.ReadAllBytes(config.Experiment.SourceFile));
        return $"{config.Experiment.Name}-{Convert.ToHexString(hash)[..8].ToLowerInvariant()}";
    }

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
