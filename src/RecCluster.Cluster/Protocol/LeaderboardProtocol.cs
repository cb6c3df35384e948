using Akka.Actor;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Protocol;

// Messages to and from the leaderboard actor, which persists every report and answers subscribers.

public static class TrialStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Pruned = "pruned";
    public const string Failed = "failed";
    public const string Interrupted = "interrupted";

    /// <summary>Statuses a resumed sweep does not run again.</summary>
    public static bool IsFinal(string status) => status is Completed or Pruned or Failed;
}

/// <summary>
/// A coordinator starting: record the sweep (its text and data hashes) unless it is there; reply: <see cref="SweepRegistered"/>
/// with what the store already holds, from which the coordinator rebuilds its state.
/// </summary>
public sealed record RegisterSweep(string SweepId, string Name, SweepSource Source, Objective Objective, IReadOnlyList<DataFile> Data)
    : IProtocolMessage;

/// <param name="Data">The data files as first recorded, which every attempt is checked against.</param>
/// <param name="Epochs">Every stored trial's epochs, all attempts, in order.</param>
public sealed record SweepRegistered(IReadOnlyList<DataFile> Data, IReadOnlyList<Leaderboard.StoredTrial> Trials,
    IReadOnlyDictionary<int, IReadOnlyList<Leaderboard.EpochRow>> Epochs) : IProtocolMessage;

/// <summary>A trial started, was retried, or changed status; <see cref="Node"/> is set when an attempt starts on (or is taken
/// over from) a node.</summary>
public sealed record RecordTrial(string SweepId, int Index, string Model, IReadOnlyDictionary<string, ParamValue> Params, string Status, int Attempt,
    string? Note = null, string? Node = null) : IProtocolMessage;

/// <summary>The sweep ended in <see cref="State"/> (finished or cancelled): it is not resumed when a coordinator starts again.</summary>
public sealed record RecordSweepEnded(string SweepId, SweepState State) : IProtocolMessage;

/// <summary>Sweeps not ended, oldest first; reply: <see cref="UnfinishedSweeps"/>.</summary>
public sealed record QueryUnfinishedSweeps : IProtocolMessage;

public sealed record UnfinishedSweeps(IReadOnlyList<Leaderboard.UnfinishedSweep> Sweeps) : IProtocolMessage;

/// <summary>An epoch of one attempt; re-delivery of the same (trial, attempt, epoch) is ignored.</summary>
public sealed record RecordEpoch(string SweepId, int Index, int Attempt, TrialEpoch Epoch) : IProtocolMessage;

/// <summary>The final result of a trial attempt, with its final status.</summary>
public sealed record RecordResult(string SweepId, int Index, int Attempt, string Status, TrialFinished Result, double? Objective) : IProtocolMessage;

/// <summary>Subscribe to <see cref="TrialUpdated"/> notifications.</summary>
public sealed record SubscribeLeaderboard(IActorRef Subscriber) : IProtocolMessage;

/// <summary>Sent to subscribers after every change that was recorded.</summary>
public sealed record TrialUpdated(string SweepId, int Index, int Attempt, string Status, int? Epoch, IReadOnlyDictionary<string, double>? Valid,
    IReadOnlyDictionary<string, ParamValue> Params) : IProtocolMessage;

/// <summary>
/// Tell <see cref="Recipient"/> <see cref="Message"/> once every record sent before this is written: a worker's report is
/// acknowledged only after what it reported is stored, so a coordinator that dies in between loses nothing.
/// </summary>
public sealed record AfterWrites(IActorRef Recipient, ReportsAcked Message) : IProtocolMessage;

/// <summary>Reply to a record message that carried an ack request (used to flush writes before exit).</summary>
public sealed record Flush : IProtocolMessage;

public sealed record Flushed : IProtocolMessage;

/// <summary>Every recorded sweep, oldest first; reply: SweepRows.</summary>
public sealed record QuerySweeps : IProtocolMessage;

public sealed record SweepRows(IReadOnlyList<Leaderboard.SweepRow> Sweeps) : IProtocolMessage;

/// <summary>Every recorded trial of a sweep, by index; reply: StoredTrials.</summary>
public sealed record QueryTrials(string SweepId) : IProtocolMessage;

public sealed record StoredTrials(IReadOnlyList<Leaderboard.StoredTrial> Trials) : IProtocolMessage;

/// <summary>Top-k finished trials by a metric ("ndcg@10": validation at the best epoch; "test:ndcg@10"); reply: LeaderboardRows.</summary>
public sealed record QueryTop(string SweepId, string Metric, bool Maximize, int K) : IProtocolMessage;

public sealed record LeaderboardRows(IReadOnlyList<Leaderboard.LeaderboardRow> Rows) : IProtocolMessage;

/// <summary>One trial's epochs for every attempt; reply: TrialHistory.</summary>
public sealed record QueryHistory(string SweepId, int Index) : IProtocolMessage;

public sealed record TrialHistory(IReadOnlyList<Leaderboard.EpochRow> Epochs) : IProtocolMessage;

/// <summary>Trials grouped by a hyperparameter's value with mean ± std of a metric; reply: TrialGroups.</summary>
public sealed record QueryGroups(string SweepId, string Param, string Metric) : IProtocolMessage;

public sealed record TrialGroups(IReadOnlyList<Leaderboard.GroupRow> Groups) : IProtocolMessage;
