using Akka.Actor;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;

namespace RecCluster.Cluster.Leaderboard;

/// <summary>Where the leaderboard's store lives; the actor opens it, so only the actor holds the connection.</summary>
public sealed record LeaderboardSettings(StoreLocation Store, bool ReadOnly = false)
{
    public LeaderboardSettings(string stateDirectory, bool ReadOnly = false) : this(new StoreLocation.StateDirectory(stateDirectory), ReadOnly)
    {
    }

    public LeaderboardStore Open() => new(Store, ReadOnly);
}

/// <summary>
/// Owns the leaderboard store: opens it when it starts and closes it when it stops. Persists every trial report
/// idempotently, tells subscribers (the CLI's live view) about each change as it is recorded, and answers queries.
/// </summary>
public sealed class LeaderboardActor : ReceiveActor
{
    private readonly HashSet<IActorRef> _subscribers = [];
    private readonly LeaderboardSettings _settings;
    private LeaderboardStore _store = null!;

    public LeaderboardActor(LeaderboardSettings settings)
    {
        _settings = settings;
        Receive<RegisterSweep>(m =>
        {
            var data = _store.EnsureSweep(m.SweepId, m.Name, m.Source, m.Objective, m.Data);
            var trials = _store.Trials(m.SweepId);
            Sender.Tell(new SweepRegistered(data, trials, trials.ToDictionary(t => t.Index, t => _store.History(m.SweepId, t.Index))));
        });
        Receive<RecordTrial>(m =>
        {
            _store.RecordTrial(m.SweepId, m.Index, m.Model, m.Params, m.Status, m.Attempt, m.Note, m.Node);
            Publish(new TrialUpdated(m.SweepId, m.Index, m.Attempt, m.Status, null, null, m.Params));
        });
        Receive<RecordEpoch>(m =>
        {
            if (_store.RecordEpoch(m.SweepId, m.Index, m.Attempt, m.Epoch))
                Publish(new TrialUpdated(m.SweepId, m.Index, m.Attempt, TrialStatus.Running, m.Epoch.Epoch, m.Epoch.Valid, new Dictionary<string, ParamValue>()));
        });
        Receive<RecordResult>(m =>
        {
            _store.RecordResult(m.SweepId, m.Index, m.Attempt, m.Status, m.Result, m.Objective);
            Publish(new TrialUpdated(m.SweepId, m.Index, m.Attempt, m.Status, m.Result.BestEpoch, m.Result.Valid, new Dictionary<string, ParamValue>()));
        });
        Receive<RecordSweepEnded>(m => _store.RecordSweepEnded(m.SweepId, m.State.ToString().ToLowerInvariant()));
        Receive<QueryUnfinishedSweeps>(_ => Sender.Tell(new UnfinishedSweeps(_store.UnfinishedSweeps())));
        Receive<SubscribeLeaderboard>(m =>
        {
            _subscribers.Add(m.Subscriber);
            Context.Watch(m.Subscriber);
        });
        Receive<Terminated>(t => _subscribers.Remove(t.ActorRef));
        Receive<Flush>(_ => Sender.Tell(new Flushed()));
        Receive<AfterWrites>(m => m.Recipient.Tell(m.Message));
        Receive<QuerySweeps>(_ => Sender.Tell(new SweepRows(_store.Sweeps())));
        Receive<ListSweeps>(_ => Sender.Tell(new SweepList(_store.Statuses())));
        Receive<QueryTrials>(q => Sender.Tell(new StoredTrials(_store.Trials(q.SweepId))));
        Receive<QueryTop>(q => Sender.Tell(new LeaderboardRows(_store.Top(q.SweepId, q.Metric, q.Maximize, q.K))));
        Receive<QueryHistory>(q => Sender.Tell(new TrialHistory(_store.History(q.SweepId, q.Index))));
        Receive<QueryGroups>(q => Sender.Tell(new TrialGroups(_store.GroupBy(q.SweepId, q.Param, q.Metric))));
    }

    protected override void PreStart() => _store = _settings.Open();

    protected override void PostStop() => _store?.Dispose();

    private void Publish(TrialUpdated update)
    {
        foreach (var subscriber in _subscribers) subscriber.Tell(update);
    }

    public static Props Props(LeaderboardSettings settings) => Akka.Actor.Props.Create(() => new LeaderboardActor(settings));
}
