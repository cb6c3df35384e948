using Akka.Actor;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;

namespace RecCluster.Api;

/// <summary>
/// Answers the API's read-only requests from a leaderboard store alone, without a sweep manager or a cluster: the local
/// <c>reccluster dashboard --state DIR</c>. Its child, a read-only <see cref="LeaderboardActor"/>, owns the store; sweep states
/// and counts are what the store recorded (<see cref="LeaderboardStore.Statuses"/>), and there are no workers.
/// </summary>
public sealed class StoreReader : ReceiveActor
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public StoreReader(LeaderboardSettings settings)
    {
        var store = Context.ActorOf(LeaderboardActor.Props(settings with { ReadOnly = true }), "leaderboard");
        Receive<ListSweeps>(m => store.Forward(m));
        Receive<QuerySweeps>(m => store.Forward(m));
        Receive<QueryTrials>(m => store.Forward(m));
        Receive<QueryTop>(m => store.Forward(m));
        Receive<QueryHistory>(m => store.Forward(m));
        Receive<QueryGroups>(m => store.Forward(m));
        Receive<GetClusterState>(_ => Sender.Tell(new ClusterState([], [])));
        Receive<GetSweepStatus>(m => store.Ask<SweepList>(new ListSweeps(), Timeout)
            .PipeTo(Sender, success: list => list.Sweeps.FirstOrDefault(s => s.Summary.SweepId == m.SweepId) as IProtocolMessage
                ?? new UnknownSweep(m.SweepId)));
    }

    public static Props Props(LeaderboardSettings settings) => Akka.Actor.Props.Create(() => new StoreReader(settings));
}
