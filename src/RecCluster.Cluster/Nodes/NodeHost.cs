using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Cluster.Tools.Singleton;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;

namespace RecCluster.Cluster.Nodes;

/// <summary>
/// Runs one <c>reccluster node</c>: an actor system per incarnation, joined to the seeds, until it is stopped, downed or
/// told to leave. A worker whose coordinators are lost (see <see cref="MembershipMonitor"/>) leaves and starts a new
/// incarnation on the same port, joining through the seeds again; its trials run on meanwhile (<see cref="HeldTrials"/>).
/// <para>
/// Once Up, a coordinator runs the <see cref="SweepManager"/> as a cluster singleton on the coordinator role (it owns the
/// leaderboard and resumes unfinished sweeps from the store); every node reaches it through a singleton proxy. A worker
/// runs its <see cref="WorkerAgent"/>, which registers its slots through that proxy.
/// </para>
/// </summary>
/// <param name="launcher">Starts the worker's trials; by default as child processes of this program.</param>
public sealed class NodeHost(NodeSettings settings, NodeConfig config, NodeEventWriter events, TextWriter log, ITrialLauncher? launcher = null)
{
    /// <summary>The singleton manager's name under /user, and its proxy's.</summary>
    public const string ManagerName = "sweeps", ProxyName = "sweeps-proxy";

    private readonly HeldTrials _held = new();

    /// <summary>
    /// The seam for client front ends (the HTTP API): called on a coordinator once it is Up, in every incarnation, with the
    /// proxy to the sweep manager singleton, the ref that answers every client query.
    /// </summary>
    public Action<IActorRef>? OnManagerUp { get; init; }

    /// <summary>Runs until the node ends; cancelling <paramref name="stop"/> leaves the cluster gracefully.</summary>
    public async Task<NodeOutcome> RunAsync(CancellationToken stop)
    {
        while (true)
        {
            var (outcome, address) = await RunIncarnationAsync(stop);
            if (outcome is { } final)
            {
                events.Write(new NodeStopped(address, final));
                return final;
            }
            log.WriteLine($"{address} left its cluster without a coordinator; starting again and joining {Seeds(address)}");
        }
    }

    /// <returns>The outcome, or null when the node should start again and rejoin.</returns>
    private async Task<(NodeOutcome? Outcome, Address Address)> RunIncarnationAsync(CancellationToken stop)
    {
        var bootstrap = BootstrapSetup.Create().WithConfig(config.Hocon);
        var system = ActorSystem.Create(NodeConfig.SystemName,
            config.Tls is { } tls ? bootstrap.And(tls.Setup()) : ActorSystemSetup.Create(bootstrap));
        var cluster = Akka.Cluster.Cluster.Get(system);
        var shutdown = CoordinatedShutdown.Get(system);
        var self = cluster.SelfAddress;
        log.WriteLine($"{settings.Role.Name()} node listening at {self}; joining {Seeds(self)}");

        system.ActorOf(MembershipMonitor.Props(events, config.RejoinAfter), "membership");
        cluster.RegisterOnMemberUp(() =>
        {
            var manager = StartSweepLayer(system);
            if (settings.Role == NodeRole.Coordinator) OnManagerUp?.Invoke(manager);
            events.Write(new NodeUp(self, settings.Role, settings.Slots, settings.Gpus));
        });
        cluster.JoinSeedNodes(SeedsFor(self));

        await using (stop.Register(() => shutdown.Run(NodeStopRequested.Instance)))
            await system.WhenTerminated;
        return (shutdown.ShutdownReason switch
        {
            NodeStopRequested or CoordinatedShutdown.ClrExitReason => NodeOutcome.Stopped,
            CoordinatorsLost => stop.IsCancellationRequested ? NodeOutcome.Stopped : null,
            CoordinatedShutdown.ClusterDowningReason => NodeOutcome.Downed,
            CoordinatedShutdown.ClusterLeavingReason => NodeOutcome.Left,
            // Akka.Remote's reason type is internal; its name is the only handle (pinned by the TLS test).
            { } reason when reason.GetType().Name == "TlsHandshakeFailureReason" => NodeOutcome.TlsRefused,
            _ => NodeOutcome.Failed,
        }, self);
    }

    /// <summary>Starts the role's actors; returns the proxy to the sweep manager singleton.</summary>
    private IActorRef StartSweepLayer(ActorSystem system)
    {
        var hocon = config.Hocon;
        if (settings.Role == NodeRole.Coordinator)
        {
            var timings = new SweepTimings(hocon.GetTimeSpan("reccluster.coordinator.adopt-within"));
            var store = new LeaderboardSettings(settings.Store ?? new StoreLocation.StateDirectory(settings.Directory));
            system.ActorOf(ClusterSingletonManager.Props(SweepManager.Props(store, timings), PoisonPill.Instance,
                ClusterSingletonManagerSettings.Create(system).WithRole(NodeRoles.CoordinatorName)), ManagerName);
        }
        var proxy = system.ActorOf(ClusterSingletonProxy.Props($"/user/{ManagerName}",
            ClusterSingletonProxySettings.Create(system).WithRole(NodeRoles.CoordinatorName)), ProxyName);
        if (settings.Role == NodeRole.Worker)
        {
            var workerTimings = new WorkerTimings(hocon.GetTimeSpan("reccluster.worker.heartbeat-timeout"),
                hocon.GetTimeSpan("reccluster.worker.register-interval"), hocon.GetTimeSpan("reccluster.worker.resend-interval"));
            var trials = launcher ?? ProcessTrialLauncher.ForCurrentProgram(Path.Combine(settings.Directory, "specs"), settings.Directory);
            if (settings.DataRoots is { Confined: true } roots) trials = new ConfinedTrialLauncher(trials, roots);
            system.ActorOf(WorkerAgent.Props(proxy, WorkerAgent.NodeSlots(settings.Slots, settings.Gpus), trials, _held, workerTimings), "worker");
        }
        return proxy;
    }

    /// <summary>A coordinator without seeds is its own: it forms the cluster the workers join.</summary>
    private IReadOnlyList<Address> SeedsFor(Address self) => config.Seeds.Count > 0 ? config.Seeds : [self];

    private string Seeds(Address self) => string.Join(", ", SeedsFor(self));
}
