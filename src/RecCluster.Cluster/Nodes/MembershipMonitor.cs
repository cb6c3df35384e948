using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Event;

namespace RecCluster.Cluster.Nodes;

/// <summary>
/// Logs membership changes (stderr) and reports them as <see cref="NodeEvent"/> lines. On a worker it also watches the
/// coordinators: with none reachable for <c>rejoinAfter</c> it runs CoordinatedShutdown with <see cref="CoordinatorsLost"/>,
/// and <see cref="NodeHost"/> starts a new actor system that joins through the seeds. That is how a worker reaches a
/// coordinator that crashed and came back as a new incarnation, which forms a fresh cluster as its own seed.
/// </summary>
public sealed class MembershipMonitor : ReceiveActor, IWithTimers
{
    private const string LostTimer = "coordinators-lost";

    private readonly Akka.Cluster.Cluster _cluster = Akka.Cluster.Cluster.Get(Context.System);
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NodeEventWriter _events;
    private readonly TimeSpan? _rejoinAfter;
    private ImmutableHashSet<UniqueAddress> _coordinators = [];
    private ImmutableHashSet<UniqueAddress> _unreachable = [];
    private bool _selfUp;
    private bool _rejoining;

    public MembershipMonitor(NodeEventWriter events, TimeSpan? rejoinAfter)
    {
        (_events, _rejoinAfter) = (events, rejoinAfter);
        Receive<ClusterEvent.MemberUp>(e =>
        {
            _selfUp |= e.Member.UniqueAddress.Equals(_cluster.SelfUniqueAddress);
            if (IsCoordinator(e.Member)) _coordinators = _coordinators.Add(e.Member.UniqueAddress);
            Report(MemberChange.Up, e.Member);
        });
        Receive<ClusterEvent.UnreachableMember>(e =>
        {
            _unreachable = _unreachable.Add(e.Member.UniqueAddress);
            Report(MemberChange.Unreachable, e.Member);
        });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            _unreachable = _unreachable.Remove(e.Member.UniqueAddress);
            Report(MemberChange.Reachable, e.Member);
        });
        Receive<ClusterEvent.MemberRemoved>(e =>
        {
            _coordinators = _coordinators.Remove(e.Member.UniqueAddress);
            _unreachable = _unreachable.Remove(e.Member.UniqueAddress);
            Report(MemberChange.Removed, e.Member, e.PreviousStatus);
        });
        Receive<ClusterEvent.MemberLeft>(e => _log.Info("member {0} ({1}) is leaving", e.Member.Address, Roles(e.Member)));
        Receive<ClusterEvent.IMemberEvent>(_ => { });   // joining, weakly up, exited, downed: the events above tell enough
        Receive<CoordinatorsLostTimeout>(_ => Rejoin());
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(NodeEventWriter events, TimeSpan? rejoinAfter) =>
        Akka.Actor.Props.Create(() => new MembershipMonitor(events, rejoinAfter));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

    private void Report(MemberChange change, Member member, MemberStatus? previous = null)
    {
        var level = change is MemberChange.Unreachable ? LogLevel.WarningLevel : LogLevel.InfoLevel;
        var was = previous is { } p ? $" (was {p.ToString().ToLowerInvariant()})" : "";
        _log.Log(level, $"member {member.Address} ({Roles(member)}) {change.ToString().ToLowerInvariant()}{was}");
        _events.Write(new MemberChanged(change, member.Address, member.Roles.ToImmutableSortedSet(), previous));
        WatchCoordinators();
    }

    /// <summary>Workers only, once Up: (re)arms the rejoin timer while no coordinator is reachable, disarms it otherwise.</summary>
    private void WatchCoordinators()
    {
        if (_rejoinAfter is not { } after || !_selfUp || _rejoining) return;
        if (_coordinators.Except(_unreachable).Count > 0)
        {
            if (Timers.IsTimerActive(LostTimer)) _log.Info("a coordinator is reachable again; staying in this cluster");
            Timers.Cancel(LostTimer);
        }
        else if (!Timers.IsTimerActive(LostTimer))
        {
            _log.Warning("no reachable coordinator; rejoining through the seeds in {0} s unless one comes back", after.TotalSeconds);
            Timers.StartSingleTimer(LostTimer, CoordinatorsLostTimeout.Instance, after);
        }
    }

    private void Rejoin()
    {
        _rejoining = true;
        _log.Warning("no coordinator for {0} s: leaving this cluster to join again through the seeds", _rejoinAfter!.Value.TotalSeconds);
        _events.Write(new Rejoining(_cluster.SelfAddress));
        CoordinatedShutdown.Get(Context.System).Run(CoordinatorsLost.Instance);
    }

    private static bool IsCoordinator(Member member) => member.HasRole(NodeRoles.CoordinatorName);

    private static string Roles(Member member) => string.Join(",", member.Roles);
}
