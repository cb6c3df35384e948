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

/// <summary>Worker → sweep manager on start: these slots are free. Slots belong to the node, not to a sweep.</summary>
public sealed record RegisterWorker(IActorRef Worker, IReadOnlyList<Slot> Slots) : IProtocolMessage;

/// <summary>Coordinator → worker: run this attempt of a trial on the slot.</summary>
public sealed record RunTrial(AttemptId Id, TrialSpec Spec, Slot Slot) : IProtocolMessage;

/// <summary>Coordinator → worker: end the trial after its current epoch (pruned or out of time), or kill it at once.</summary>
public sealed record StopTrial(AttemptId Id, bool Immediately = false) : IProtocolMessage;

/// <summary>Worker → coordinator: an event the trial reported.</summary>
public sealed record TrialReported(AttemptId Id, TrialEvent Event) : IProtocolMessage;

/// <summary>Worker → coordinator: the trial's process is gone and its slot is free. <see cref="Failure"/> is
/// null when the trial reported its final result first.</summary>
public sealed record TrialExited(AttemptId Id, Slot Slot, string? Failure) : IProtocolMessage;
