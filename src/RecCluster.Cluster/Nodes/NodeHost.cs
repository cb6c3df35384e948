using Akka.Actor;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Sweeps;

namespace RecCluster.Cluster.Nodes;

/// <summary>
/// Runs one <c>reccluster node</c>: an actor system per incarnation, joined to the seeds, until it is stopped, downed or
/// told to leave. A worker whose coordinators are lost (see <see cref="MembershipMonitor"/>) leaves and starts a new
/// incarnation on the same port, joining through the seeds again.
/// </summary>
public sealed class NodeHost(NodeSettings settings, NodeConfig config, NodeEventWriter events, TextWriter log)
{
    /// <summary>
    /// The seam for client front ends (the HTTP API): called on a coordinator once it is Up, in every incarnation, with the
    /// ref that answers every client query, the sweep manager. Null: no manager is started (see <see cref="StartManager"/>).
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
        var system = ActorSystem.Create(NodeConfig.SystemName, config.Hocon);
        var cluster = Akka.Cluster.Cluster.Get(system);
        var shutdown = CoordinatedShutdown.Get(system);
        var self = cluster.SelfAddress;
        log.WriteLine($"{settings.Role.Name()} node listening at {self}; joining {Seeds(self)}");

        system.ActorOf(MembershipMonitor.Props(events, config.RejoinAfter), "membership");
        cluster.RegisterOnMemberUp(() =>
        {
            // Plug point for issue 8's sweep layer: a coordinator starts the SweepManager and leaderboard singletons
            // here, a worker its WorkerAgent, which registers its slots through a singleton proxy.
            events.Write(new NodeUp(self, settings.Role, settings.Slots, settings.Gpus));
            if (settings.Role == NodeRole.Coordinator && OnManagerUp is { } managerUp) managerUp(StartManager(system));
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
            _ => NodeOutcome.Failed,
        }, self);
    }

    /// <summary>
    /// For now a plain sweep manager with its leaderboard on the state folder, on this node: the API can submit and query, and
    /// no worker registers with it yet. The cluster-singleton work replaces this body with the manager singleton's proxy.
    /// </summary>
    private IActorRef StartManager(ActorSystem system)
    {
        var leaderboard = system.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(settings.Directory)), "leaderboard");
        return system.ActorOf(SweepManager.Props(leaderboard), "sweeps");
    }

    /// <summary>A coordinator without seeds is its own: it forms the cluster the workers join.</summary>
    private IReadOnlyList<Address> SeedsFor(Address self) => config.Seeds.Count > 0 ? config.Seeds : [self];

    private string Seeds(Address self) => string.Join(", ", SeedsFor(self));
}
