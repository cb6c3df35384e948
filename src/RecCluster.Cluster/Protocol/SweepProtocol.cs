using Akka.Actor;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Protocol;

// Messages between the sweep coordinator, worker agents and the per-trial supervisors.

/// <summary>A place where one trial runs; <see cref="CudaDevices"/> goes to CUDA_VISIBLE_DEVICES (null: CPU).</summary>
public sealed record Slot(string Id, string? CudaDevices);

/// <summary>Worker → coordinator on start: these slots are free.</summary>
public sealed record RegisterWorker(IActorRef Worker, IReadOnlyList<Slot> Slots);

/// <summary>Coordinator → worker: run this attempt of a trial on the slot.</summary>
public sealed record RunTrial(string SweepId, int Index, int Attempt, TrialSpec Spec, Slot Slot);

/// <summary>Coordinator → worker: end the trial after its current epoch (pruned or out of time), or kill it at once.</summary>
public sealed record StopTrial(int Index, int Attempt, bool Immediately = false);

/// <summary>Worker → coordinator: an event the trial reported.</summary>
public sealed record TrialReported(int Index, int Attempt, TrialEvent Event);

/// <summary>Worker → coordinator: the trial's process is gone and its slot is free. <see cref="Failure"/> is
/// null when the trial reported its final result first.</summary>
public sealed record TrialExited(int Index, int Attempt, Slot Slot, string? Failure);

/// <summary>Ask the coordinator to run the sweep; the reply is <see cref="SweepFinished"/>.</summary>
public sealed record RunSweep;

/// <summary>End the sweep early (Ctrl+C): running trials are stopped and recorded as interrupted.</summary>
public sealed record AbortSweep;

public sealed record SweepSummary(string SweepId, int Trials, int Completed, int Pruned, int Failed, int Interrupted, long TotalEpochs);

public sealed record SweepFinished(SweepSummary Summary);

/// <summary>Internal timer tick of the coordinator: checks the time budget.</summary>
public sealed record BudgetTick
{
    public static readonly BudgetTick Instance = new();
}
