using Akka.Actor;
using Akka.Event;
using RecCluster.Cluster.Protocol;

namespace RecCluster.Cluster.Workers;

/// <param name="HeartbeatTimeout">A trial silent for longer is killed as hung.</param>
/// <param name="RegisterInterval">How often the worker registers again (a restarted or moved manager learns of it).</param>
/// <param name="ResendInterval">How often reports not yet acknowledged are sent again.</param>
public sealed record WorkerTimings(TimeSpan HeartbeatTimeout, TimeSpan RegisterInterval, TimeSpan ResendInterval)
{
    public static WorkerTimings Default(TimeSpan heartbeatTimeout) => new(heartbeatTimeout, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(3));
}

/// <summary>
/// Owns a node's slots: registers them (with the attempts it holds) with the sweep manager, again every few seconds, runs
/// each assigned trial under its own <see cref="TrialSupervisor"/> (one child process per trial) and relays the trials'
/// reports and their acknowledgements. Work is pulled: the manager hands out only slots the worker declared free, so no
/// queue builds up on a worker that cannot drain it.
/// </summary>
public sealed class WorkerAgent : ReceiveActor, IWithTimers
{
    private sealed record Reregister : INoSerializationVerificationNeeded;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<AttemptId, IActorRef> _supervisors = [];
    private readonly IActorRef _manager;
    private readonly IReadOnlyList<Slot> _slots;
    private readonly ITrialLauncher _launcher;
    private readonly HeldTrials _held;
    private readonly WorkerTimings _timings;
    private readonly string _node;

    public ITimerScheduler Timers { get; set; } = null!;

    public WorkerAgent(IActorRef manager, IReadOnlyList<Slot> slots, ITrialLauncher launcher, HeldTrials held, WorkerTimings timings)
    {
        (_manager, _slots, _launcher, _held, _timings) = (manager, slots, launcher, held, timings);
        _node = TrialSupervisor.NodeName(Context.System);
        Receive<RunTrial>(run =>
        {
            if (_held.Find(run.Id) is not null) return;   // a repeated order: the attempt runs already
            if (_held.All.FirstOrDefault(h => h.Run.Slot == run.Slot && !h.Exited) is { } busy)
            {
                _log.Warning("slot {0} is busy with {1}; not starting {2}", run.Slot.Id, busy.Run.Id, run.Id);
                return;
            }
            Supervise(_held.Add(run));
        });
        Receive<StopTrial>(stop => _supervisors.GetValueOrDefault(stop.Id)?.Tell(stop));
        Receive<ReportsAcked>(ack => _supervisors.GetValueOrDefault(ack.Id)?.Tell(ack));
        Receive<ITrialReport>(report => _manager.Tell(report));
        Receive<Terminated>(t =>
        {
            foreach (var (id, supervisor) in _supervisors.Where(s => s.Value.Equals(t.ActorRef)).ToList()) _supervisors.Remove(id);
        });
        Receive<Reregister>(_ => Register());
    }

    protected override void PreStart()
    {
        // Attempts launched by this node's previous actor system run on: supervise them again.
        foreach (var held in _held.All) Supervise(held);
        Register();
        Timers.StartPeriodicTimer("register", new Reregister(), _timings.RegisterInterval);
    }

    private void Supervise(HeldTrial held)
    {
        var id = held.Run.Id;
        var props = Akka.Actor.Props.Create(() => new TrialSupervisor(held, _held, _launcher, _timings));
        var supervisor = Context.ActorOf(props, $"trial-{id.SweepId}-{id.Index}-{id.Attempt}");
        Context.Watch(supervisor);
        _supervisors[id] = supervisor;
    }

    private void Register() =>
        _manager.Tell(new RegisterWorker(Self, _node, _slots, [.. _held.All.Select(h => new HeldAttempt(h.Run.Id, h.Run.Slot, h.Acked, h.Exited))]));

    /// <summary>
    /// Slots for this node: one per declared GPU share when trials use GPUs (gpus_per_trial 0.25 packs four
    /// trials on a GPU), otherwise <paramref name="cpuSlots"/> CPU slots.
    /// </summary>
    public static IReadOnlyList<Slot> PlanSlots(int cpuSlots, int gpus, double gpusPerTrial)
    {
        if (gpusPerTrial <= 0) return [.. Enumerable.Range(0, cpuSlots).Select(i => new Slot($"cpu{i}", null))];
        if (gpus == 0) throw new InvalidOperationException($"the sweep asks for {gpusPerTrial} GPU per trial but this node has none (declare them with --gpus)");
        if (gpusPerTrial >= 1)
        {
            int per = (int)gpusPerTrial;
            return [.. Enumerable.Range(0, gpus / per).Select(i => new Slot($"gpu{i * per}", string.Join(",", Enumerable.Range(i * per, per))))];
        }
        int perGpu = (int)Math.Floor(1 / gpusPerTrial + 1e-9);
        return [.. Enumerable.Range(0, gpus * perGpu).Select(i => new Slot($"gpu{i / perGpu}.{i % perGpu}", (i / perGpu).ToString()))];
    }

    /// <summary>A worker node's slots: with GPUs, slot i pins GPU i mod GPUs (several slots share a GPU when there are more slots).</summary>
    public static IReadOnlyList<Slot> NodeSlots(int slots, int gpus) => gpus == 0
        ? PlanSlots(slots, 0, 0)
        : [.. Enumerable.Range(0, slots).Select(i => new Slot($"gpu{i % gpus}.{i / gpus}", (i % gpus).ToString()))];

    public static Props Props(IActorRef manager, IReadOnlyList<Slot> slots, ITrialLauncher launcher, HeldTrials held, WorkerTimings timings) =>
        Akka.Actor.Props.Create(() => new WorkerAgent(manager, slots, launcher, held, timings));

    public static Props Props(IActorRef manager, IReadOnlyList<Slot> slots, ITrialLauncher launcher, TimeSpan heartbeatTimeout) =>
        Props(manager, slots, launcher, new HeldTrials(), WorkerTimings.Default(heartbeatTimeout));
}
