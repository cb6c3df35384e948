using Akka.Actor;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;

namespace RecCluster.Cluster.Leaderboard;

/// <summary>
/// Persists every trial report in the SQLite store, idempotently, tells subscribers (the CLI's live view)
/// about each change as it is recorded, and answers leaderboard queries.
/// </summary>
public sealed class LeaderboardActor : ReceiveActor
{
    private readonly HashSet<IActorRef> _subscribers = [];

    public LeaderboardActor(LeaderboardStore store)
    {
        Receive<RecordTrial>(m =>
        {
            store.RecordTrial(m.SweepId, m.Index, m.Model, m.Params, m.Status, m.Attempt, m.Note);
            Publish(new TrialUpdated(m.SweepId, m.Index, m.Attempt, m.Status, null, null, m.Params));
        });
        Receive<RecordEpoch>(m =>
        {
            if (store.RecordEpoch(m.SweepId, m.Index, m.Attempt, m.Epoch))
                Publish(new TrialUpdated(m.SweepId, m.Index, m.Attempt, TrialStatus.Running, m.Epoch.Epoch, m.Epoch.Valid, new Dictionary<string, ParamValue>()));
        });
        Receive<RecordResult>(m =>
        {
            store.RecordResult(m.SweepId, m.Index, m.Attempt, m.Status, m.Result, m.Objective);
            Publish(new TrialUpdated(m.SweepId, m.Index, m.Attempt, m.Status, m.Result.BestEpoch, m.Result.Valid, new Dictionary<string, ParamValue>()));
        });
        Receive<SubscribeLeaderboard>(m =>
        {
            _subscribers.Add(m.Subscriber);
            Context.Watch(m.Subscriber);
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<Flush>(_ => Sender.Tell(new Flushed()));
        Receive<QueryTop>(q => Sender.Tell(new LeaderboardRows(store.Top(q.SweepId, q.Metric, q.Maximize, q.K))));
        Receive<QueryHistory>(q => Sender.Tell(new TrialHistory(store.History(q.SweepId, q.Index))));
        Receive<QueryGroups>(q => Sender.Tell(new TrialGroups(store.GroupBy(q.SweepId, q.Param, q.Metric))));
    }

    private void Publish(TrialUpdated update)
    {
        foreach (var subscriber in _subscribers) subscriber.Tell(update);
    }

    public static Props Props(LeaderboardStore store) => Akka.Actor.Props.Create(() => new LeaderboardActor(store));
}
