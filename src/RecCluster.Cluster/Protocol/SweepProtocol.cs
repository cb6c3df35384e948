using Akka.Actor;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Protocol;

// Messages between the sweep manager (which routes them to the sweep's coordinator), worker agents and the per-trial
// supervisors. Every message about a trial names its sweep, trial and attempt, so a late message from an attempt given up
// on is told apart.

/// <summary>A place where one trial runs; <see cref="CudaDevices"/> goes to CUDA_VISIBLE_DEVICES (null: CPU).</summary>
public sealed record Slot(string Id, string? CudaDevices);

/// <summary>One attempt of one trial of one sweep.</summary>
public sealed record AttemptId(string SweepId, int Index, int Attempt);

/// <summary>
/// An attempt a worker still holds: its process runs, or it ended with reports the coordinator has not acknowledged yet.
/// <see cref="Acked"/> is the last report sequence number acknowledged; an <see cref="Exited"/> attempt no longer holds its slot.
/// </summary>
public sealed record HeldAttempt(AttemptId Id, Slot Slot, long Acked, bool Exited = false);

/// <summary>
/// Worker → sweep manager, on start and then periodically (so a manager that started again, or moved, learns of it): this
/// node's slots and the attempts it holds. Slots belong to the node, not to a sweep; a slot without an attempt is free.
/// </summary>
/// <param name="Node">The worker's node as people read it, e.g. "gpu-3 (akka.tcp://reccluster@10.0.0.3:4053)".</param>
public sealed record RegisterWorker(IActorRef Worker, string Node, IReadOnlyList<Slot> Slots, IReadOnlyList<HeldAttempt> Held)
    : IProtocolMessage;

/// <summary>Coordinator → worker: run this attempt of a trial on the slot; <see cref="Resume"/> continues from its checkpoint.</summary>
public sealed record RunTrial(AttemptId Id, TrialSpec Spec, Slot Slot, bool Resume = false) : IProtocolMessage;

/// <summary>Coordinator → worker: end the trial after its current epoch (pruned or out of time), or kill it at once.</summary>
public sealed record StopTrial(AttemptId Id, bool Immediately = false) : IProtocolMessage;

/// <summary>
/// A worker's report about an attempt, numbered from 1 per attempt: the worker sends each until it is acknowledged
/// (<see cref="ReportsAcked"/>), so reports survive a coordinator that restarts or moves, and the coordinator handles
/// each number once.
/// </summary>
public interface ITrialReport : IProtocolMessage
{
    AttemptId Id { get; }
    long Seq { get; }
}

/// <summary>Worker → coordinator: an event the trial reported.</summary>
public sealed record TrialReported(AttemptId Id, TrialEvent Event, long Seq = 0) : ITrialReport;

/// <summary>Worker → coordinator: the trial's process is gone and its slot is free. <see cref="Failure"/> is
/// null when the trial reported its final result first. Always an attempt's last report.</summary>
public sealed record TrialExited(AttemptId Id, Slot Slot, string? Failure, long Seq = 0) : ITrialReport;

/// <summary>Coordinator → worker: every report of the attempt up to <see cref="UpTo"/> is handled.</summary>
public sealed record ReportsAcked(AttemptId Id, long UpTo) : IProtocolMessage;
