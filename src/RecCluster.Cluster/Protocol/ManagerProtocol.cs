using Akka.Actor;
using RecCluster.Core.Config;

namespace RecCluster.Cluster.Protocol;

// Messages of the sweep manager: from clients (submit, list, status, cancel, watch) and between the manager and
// its sweep coordinators (slot demand and grants, the end of a sweep).

/// <summary>Queued: submitted, no trial started yet; running; finished (nothing left to run); cancelled.</summary>
public enum SweepState { Queued, Running, Finished, Cancelled }

public sealed record SweepSummary(string SweepId, int Trials, int Completed, int Pruned, int Failed, int Interrupted, long TotalEpochs);

public sealed record SweepStatus(SweepSummary Summary, SweepState State) : IProtocolMessage;

/// <summary>
/// Client → manager: run the sweep in this text (idempotent: the text names the sweep); reply: SweepAccepted or SweepRejected.
/// </summary>
public sealed record SubmitSweep(SweepSource Source) : IProtocolMessage;

public sealed record SweepAccepted(string SweepId) : IProtocolMessage;

/// <summary>The text is not a valid sweep, or its data files cannot be read; nothing was started.</summary>
public sealed record SweepRejected(string Error) : IProtocolMessage;

/// <summary>Reply to a message about a sweep this manager never ran.</summary>
public sealed record UnknownSweep(string SweepId) : IProtocolMessage;

/// <summary>Every sweep submitted to this manager, in submission order; reply: SweepList.</summary>
public sealed record ListSweeps : IProtocolMessage;

public sealed record SweepList(IReadOnlyList<SweepStatus> Sweeps) : IProtocolMessage;

/// <summary>Reply: SweepStatus with live counts, or UnknownSweep.</summary>
public sealed record GetSweepStatus(string SweepId) : IProtocolMessage;

/// <summary>Stop the sweep: running trials are killed and recorded as interrupted; reply: SweepStatus, or UnknownSweep.</summary>
public sealed record CancelSweep(string SweepId) : IProtocolMessage;

/// <summary>Subscribe to the sweep's end: the reply, once it finished or was cancelled, is SweepFinished (or UnknownSweep).</summary>
public sealed record WatchSweep(string SweepId) : IProtocolMessage;

public sealed record SweepFinished(SweepSummary Summary, SweepState State) : IProtocolMessage;

/// <summary>
/// Coordinator → manager: it could start <see cref="Wanted"/> more trials now. <see cref="GrantsSeen"/> counts the grants it
/// has received, so the manager discounts those still in flight.
/// </summary>
public sealed record SlotDemand(string SweepId, int Wanted, int GrantsSeen) : IProtocolMessage;

/// <summary>Manager → coordinator: this free slot of the worker on <see cref="Node"/> is the sweep's for one trial attempt.</summary>
public sealed record SlotGranted(IActorRef Worker, Slot Slot, string Node = "") : IProtocolMessage;

/// <summary>
/// Manager → coordinator: a worker (re-)registered holding this attempt of the sweep's (the coordinator or the worker
/// started again meanwhile). The coordinator takes it over if it is still the attempt it wants, or stops it.
/// </summary>
public sealed record AdoptAttempt(IActorRef Worker, string Node, HeldAttempt Attempt) : IProtocolMessage;

/// <summary>
/// Manager → coordinators: the worker's node left the cluster or was downed; its attempts are gone. It never leaves the
/// manager's node (coordinators are the manager's children), so it is exempt from serialize-messages checks: the worker it
/// names is dead by then, and a dead actor's ref read back from bytes no longer equals the ref the attempts hold.
/// </summary>
public sealed record WorkerLost(IActorRef Worker, string Node) : IProtocolMessage, INoSerializationVerificationNeeded;

/// <summary>Coordinator → manager: the slot is free again (its trial exited, or the grant could not be used).</summary>
public sealed record SlotReleased(IActorRef Worker, Slot Slot) : IProtocolMessage;

/// <summary>Coordinator → manager: the sweep is over; the manager keeps the status and stops the coordinator.</summary>
public sealed record SweepEnded(SweepStatus Status) : IProtocolMessage;

/// <summary>
/// Client → manager: the worker slots it holds and the cluster's members; reply: <see cref="ClusterState"/>. (The manager
/// also forwards the leaderboard's queries, <see cref="QuerySweeps"/> and the others, so one ref answers every client query.)
/// </summary>
public sealed record GetClusterState : IProtocolMessage;

/// <summary>A worker agent's slots as the manager sees them: busy ones are granted to a trial, free ones wait for a grant.</summary>
/// <param name="Node">The address of the worker's node.</param>
/// <param name="Roles">The node's cluster roles (none in local mode).</param>
/// <param name="Gpus">The GPUs its slots hold (CUDA devices named by any slot).</param>
public sealed record WorkerSlots(string Node, string Worker, IReadOnlyList<string> Roles, int Total, int Busy, int Free, int Gpus = 0);

/// <summary>A cluster member: address, roles and status (up, leaving, ...).</summary>
public sealed record ClusterMember(string Address, IReadOnlyList<string> Roles, string Status);

/// <param name="Members">The cluster's members as the manager's node sees them; empty in local mode.</param>
public sealed record ClusterState(IReadOnlyList<WorkerSlots> Workers, IReadOnlyList<ClusterMember> Members) : IProtocolMessage;
