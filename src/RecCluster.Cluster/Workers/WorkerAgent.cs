using Akka.Actor;
using RecCluster.Cluster.Protocol;

namespace RecCluster.Cluster.Workers;

/// <summary>
/// Owns a node's slots: registers them with the sweep manager, runs each assigned trial under its own
/// <see cref="TrialSupervisor"/> (one child process per trial) and relays the trial's reports.
/// </summary>
public sealed class WorkerAgent : ReceiveActor
{
    private readonly Dictionary<AttemptId, IActorRef> _trials = [];

    public WorkerAgent(IActorRef manager, IReadOnlyList<Slot> slots, ITrialLauncher launcher, TimeSpan heartbeatTimeout)
    {
        Receive<RunTrial>(run =>
        {
            var name = $"trial-{run.Id.SweepId}-{run.Id.Index}-{run.Id.Attempt}";
            _trials[run.Id] = Context.ActorOf(Akka.Actor.Props.Create(() => new TrialSupervisor(run, launcher, heartbeatTimeout)), name);
        });
        Receive<StopTrial>(stop =>
        {
            if (_trials.TryGetValue(stop.Id, out var supervisor)) supervisor.Tell(stop);
        });
        Receive<TrialReported>(report => manager.Tell(report));
        Receive<TrialExited>(exit =>
        {
            _trials.Remove(exit.Id);
            manager.Tell(exit);
        });
        manager.Tell(new RegisterWorker(Self, slots));
    }

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

    public static Props Props(IActorRef manager, IReadOnlyList<Slot> slots, ITrialLauncher launcher, TimeSpan heartbeatTimeout) =>
        Akka.Actor.Props.Create(() => new WorkerAgent(manager, slots, launcher, heartbeatTimeout));
}
