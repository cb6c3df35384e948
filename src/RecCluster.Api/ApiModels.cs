using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Api;

// The API's JSON bodies, read back by the CLI's clients with the same options.

/// <summary>
/// snake_case names, NaN metrics as "NaN" (the trial codec's options), quotes and non-ASCII letters as they are: shared by the
/// server and its clients.
/// </summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = new(TrialCodec.Json) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}

/// <summary>A sweep as <c>GET /api/sweeps/{id}</c> shows it.</summary>
/// <param name="State">queued, running, finished or cancelled.</param>
/// <param name="Running">Trials running now, as the store records them.</param>
/// <param name="Best">The best finished trial by the sweep's objective, when there is one.</param>
public sealed record SweepView(string SweepId, string State, int Trials, int Completed, int Pruned, int Failed, int Interrupted,
    int Running, long TotalEpochs, BestTrial? Best)
{
    public static readonly IReadOnlyList<string> States = ["queued", "running", "finished", "cancelled"];

    [JsonIgnore]
    public bool Ended => Enum.Parse<SweepState>(State, ignoreCase: true) is SweepState.Finished or SweepState.Cancelled;

    public static SweepView Of(SweepStatus status, IReadOnlyList<StoredTrial> trials, string? objective, LeaderboardRow? best)
    {
        var s = status.Summary;
        return new(s.SweepId, status.State.ToString().ToLowerInvariant(), s.Trials, s.Completed, s.Pruned, s.Failed, s.Interrupted,
            trials.Count(t => t.Status == TrialStatus.Running), s.TotalEpochs,
            best is null || objective is null ? null
                : new BestTrial(best.Trial.Index, best.Trial.Model, objective, best.Trial.Params, best.Valid, best.Test));
    }
}

/// <param name="Metric">The objective the trial is best by (its validation value at the best epoch).</param>
public sealed record BestTrial(int Trial, string Model, string Metric, IReadOnlyDictionary<string, ParamValue> Params,
    IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test);

public sealed record SweepViews(IReadOnlyList<SweepView> Sweeps);

public sealed record SweepCreated(string SweepId);

/// <summary>An error answer: one message, or a config's problems one per line (file:line:col: message); the parameter at fault.</summary>
public sealed record ApiError(
    string Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Errors = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Parameter = null);

/// <summary>What serves the API: a cluster's coordinator, a local sweep (one process), or a store read by the local dashboard.</summary>
public enum ServerMode
{
    [JsonStringEnumMemberName("cluster")] Cluster,
    [JsonStringEnumMemberName("local")] Local,
    [JsonStringEnumMemberName("store")] Store,
}

/// <summary><c>GET /api/cluster</c>: every worker's slots with their sum, and the cluster's members.</summary>
/// <param name="Mode">cluster, local (a <c>reccluster sweep</c> process: no members) or store (no workers either).</param>
public sealed record ClusterView(int SlotsTotal, int SlotsBusy, int SlotsFree, IReadOnlyList<WorkerSlots> Workers,
    IReadOnlyList<ClusterMember> Members,
    [property: JsonConverter(typeof(JsonStringEnumConverter<ServerMode>))] ServerMode Mode = ServerMode.Cluster)
{
    public static ClusterView Of(ClusterState state, ServerMode mode) => new(state.Workers.Sum(w => w.Total),
        state.Workers.Sum(w => w.Busy), state.Workers.Sum(w => w.Free), state.Workers, state.Members, mode);
}

/// <summary><c>GET /api/sweeps/{id}/curves</c>: every trial's recorded epochs (all attempts), for learning curves.</summary>
/// <param name="Metric">The sweep's objective, the validation metric to plot.</param>
public sealed record CurvesView(string SweepId, string Metric, IReadOnlyList<TrialCurve> Trials);

/// <param name="Epochs">Every recorded epoch of every attempt, by attempt then epoch (as <c>/trials/{n}</c> gives them).</param>
public sealed record TrialCurve(int Trial, string Status, int? BestEpoch, int? EpochsRun, IReadOnlyList<EpochRow> Epochs);

/// <summary>An <c>epoch</c> event of <c>GET /api/events</c>: one newly recorded epoch of a trial's attempt.</summary>
public sealed record EpochEvent(string SweepId, int Trial, int Attempt, int Epoch, double? Loss, IReadOnlyDictionary<string, double> Valid,
    string? Node);
