using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Actor;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Evaluation;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Leaderboard;

// Leaderboard queries and their renderings, in one place for every front end: the local `leaderboard` command (asking the
// leaderboard actor), the coordinator's HTTP API (asking the sweep manager, which forwards to its leaderboard) and the
// `leaderboard --coordinator` client (rendering the report the API sent).

/// <summary>A leaderboard query: top-k by a metric, trials grouped by a hyperparameter, or one trial's epoch history.</summary>
/// <param name="SweepId">Null: the most recently recorded sweep.</param>
/// <param name="Metric">Null: the sweep's objective.</param>
/// <param name="AllTrials">Every trial as it stands, finished or not, instead of the top finished ones.</param>
public sealed record LeaderboardRequest(string? SweepId, int Top = 10, string? Metric = null, string? GroupBy = null, int? Trial = null,
    bool AllTrials = false);

/// <summary>The answer to a <see cref="LeaderboardRequest"/>, as the store's rows; <see cref="Grid"/> lays it out for json, csv.</summary>
public abstract record LeaderboardReport(string SweepId)
{
    public abstract LeaderboardGrid Grid();
}

/// <summary>Finished trials, best first by <see cref="Metric"/>.</summary>
public sealed record TopReport(string SweepId, string Metric, IReadOnlyList<LeaderboardRow> Rows) : LeaderboardReport(SweepId)
{
    public override LeaderboardGrid Grid()
    {
        var names = Rows.SelectMany(r => r.Valid.Keys).Distinct().Order().ToList();
        return new(
            [.. LeaderboardColumns.Trial.Select(c => c.Name), "params", .. names.Select(n => "valid:" + n), .. names.Select(n => "test:" + n)],
            [.. Rows.Select(r => (object?[])[.. LeaderboardColumns.Trial.Select(c => c.Cell(r.Trial)), TrialCodec.Params(r.Trial.Params),
                .. names.Select(n => LeaderboardGrid.Metric(r.Valid, n)), .. names.Select(n => LeaderboardGrid.Metric(r.Test, n))])]);
    }
}

/// <summary>Finished trials grouped by the value of <see cref="Param"/>: mean ± std of <see cref="Metric"/>.</summary>
public sealed record GroupsReport(string SweepId, string Param, string Metric, IReadOnlyList<GroupRow> Groups) : LeaderboardReport(SweepId)
{
    public override LeaderboardGrid Grid() => new([Param, "trials", $"{Metric} mean", $"{Metric} std"],
        [.. Groups.Select(g => (object?[])[g.Value, g.Trials, g.Mean, g.Std])]);
}

/// <summary>Every recorded epoch of one trial, all attempts.</summary>
public sealed record HistoryReport(string SweepId, int Trial, IReadOnlyList<EpochRow> Epochs) : LeaderboardReport(SweepId)
{
    public override LeaderboardGrid Grid()
    {
        var names = Epochs.SelectMany(h => h.Valid.Keys).Distinct().Order().ToList();
        return new(["attempt", "epoch", "loss", .. names, "node"],
            [.. Epochs.Select(h => (object?[])[h.Attempt, h.Epoch, h.Loss, .. names.Select(n => LeaderboardGrid.Metric(h.Valid, n)), h.Node])]);
    }
}

/// <summary>Every trial of the sweep, finished or not, by number: where each stands now.</summary>
public sealed record TrialsReport(string SweepId, IReadOnlyList<StoredTrial> Trials) : LeaderboardReport(SweepId)
{
    public override LeaderboardGrid Grid() => new([.. LeaderboardColumns.Trial.Select(c => c.Name), "params", "started", "note"],
        [.. Trials.Select(t => (object?[])[.. LeaderboardColumns.Trial.Select(c => c.Cell(t)), TrialCodec.Params(t.Params), t.Started, t.Note])]);
}

/// <summary>A per-trial column: its json/csv name, its title in a table, and its cell.</summary>
public sealed record TrialColumn(string Name, string Title, Func<StoredTrial, object?> Cell);

public static class LeaderboardColumns
{
    /// <summary>
    /// The per-trial columns of every leaderboard rendering (json, csv, the terminal table), in order, before the
    /// hyperparameters and metrics: a new column of the store's trials is added here, once.
    /// </summary>
    public static readonly IReadOnlyList<TrialColumn> Trial =
    [
        new("trial", "trial", t => t.Index),
        new("model", "model", t => t.Model),
        new("status", "status", t => t.Status),
        new("best_epoch", "best epoch", t => t.BestEpoch),
        new("epochs_run", "epochs", t => t.EpochsRun),
        new("attempts", "attempts", t => t.Attempts),
        new("node", "node", t => t.Node),
    ];
}

/// <summary>A report laid out as a header and rows of cells: numbers, texts, JSON objects, or null (missing).</summary>
public sealed record LeaderboardGrid(IReadOnlyList<string> Header, IReadOnlyList<object?[]> Rows)
{
    public static readonly IReadOnlyList<string> Formats = ["json", "csv"];

    /// <summary>Writes the grid as "json" (an array of objects keyed by the header) or "csv" (a header line, then the rows).</summary>
    public void Write(TextWriter output, string format)
    {
        switch (format)
        {
            case "json":
                var array = new JsonArray();
                foreach (var row in Rows)
                    array.Add(new JsonObject(Header.Select((h, i) => KeyValuePair.Create(h, Json(row[i])))));
                output.WriteLine(array.ToJsonString());
                break;
            case "csv":
                output.WriteLine(string.Join(",", Header.Select(Csv)));
                foreach (var row in Rows) output.WriteLine(string.Join(",", row.Select(c => Csv(Text(c)))));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "json or csv");
        }
    }

    public string ToString(string format)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        Write(text, format);
        return text.ToString();
    }

    /// <summary>A cell as text: metrics with six decimals, JSON objects compact, missing values empty.</summary>
    public static string Text(object? cell) => cell switch
    {
        null => "",
        double d => Fixed(d),
        JsonNode node => node.ToJsonString(),
        _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "",
    };

    public static string Fixed(double? v) => v?.ToString("F6", CultureInfo.InvariantCulture) ?? "";

    public static object? Metric(IReadOnlyDictionary<string, double> metrics, string name) =>
        metrics.TryGetValue(name, out var v) ? v : null;

    private static JsonNode? Json(object? cell) => cell switch
    {
        null => null,
        JsonNode node => node.DeepClone(),
        string text => JsonValue.Create(text),
        int i => JsonValue.Create(i),
        double d => JsonValue.Create(d),
        _ => throw new ArgumentOutOfRangeException(nameof(cell), cell.GetType().Name),
    };

    private static string Csv(string v) => v.Contains(',') || v.Contains('"') ? $"\"{v.Replace("\"", "\"\"")}\"" : v;
}

/// <summary>What was wrong with a leaderboard query: the sweep, a parameter, or nothing recorded to show.</summary>
public enum LeaderboardProblem { UnknownSweep, BadParameter, NothingRecorded }

/// <param name="Parameter">The query parameter at fault (snake_case: metric, group_by, top, trial), for BadParameter.</param>
public sealed class LeaderboardQueryException(LeaderboardProblem problem, string? parameter, string message) : Exception(message)
{
    public LeaderboardProblem Problem { get; } = problem;
    public string? Parameter { get; } = parameter;
}

public static class LeaderboardQuery
{
    /// <summary>
    /// Answers a request by asking <paramref name="answerer"/>: the leaderboard actor, or a sweep manager (which forwards the
    /// queries to its leaderboard). <paramref name="where"/> names the store in messages.
    /// </summary>
    /// <exception cref="LeaderboardQueryException">Unknown sweep, bad metric or top, nothing recorded.</exception>
    public static async Task<LeaderboardReport> RunAsync(IActorRef answerer, LeaderboardRequest request, string where, TimeSpan timeout)
    {
        async Task<T> Ask<T>(IProtocolMessage query) => await answerer.Ask<T>(query, timeout);
        if (request.Top < 1)
            throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, "top", $"must be at least 1, not {request.Top}");
        var sweeps = (await Ask<SweepRows>(new QuerySweeps())).Sweeps;
        var sweep = request.SweepId is null ? sweeps.LastOrDefault() : sweeps.FirstOrDefault(s => s.Id == request.SweepId);
        if (sweep is null)
            throw request.SweepId is null
                ? new LeaderboardQueryException(LeaderboardProblem.NothingRecorded, null, $"no sweep in {where}")
                : new LeaderboardQueryException(LeaderboardProblem.UnknownSweep, null,
                    $"no sweep '{request.SweepId}' in {where}; known: {string.Join(", ", sweeps.Select(s => s.Id))}");
        var metric = request.Metric ?? sweep.ObjectiveMetric;
        if (!MetricName.TryParse(metric.StartsWith("test:") ? metric[5..] : metric, out _, out _))
            throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, "metric",
                $"'{metric}' is not a metric name like ndcg@10 or test:ndcg@10");
        const bool maximize = true;   // every supported metric is better when higher

        if (request.Trial is { } index)
        {
            var history = (await Ask<TrialHistory>(new QueryHistory(sweep.Id, index))).Epochs;
            if (history.Count == 0)
                throw new LeaderboardQueryException(LeaderboardProblem.NothingRecorded, "trial",
                    $"trial {index} has no recorded epochs in sweep {sweep.Id}");
            return new HistoryReport(sweep.Id, index, history);
        }
        if (request.AllTrials) return new TrialsReport(sweep.Id, (await Ask<StoredTrials>(new QueryTrials(sweep.Id))).Trials);
        if (request.GroupBy is { } param)
            return new GroupsReport(sweep.Id, param, metric, (await Ask<TrialGroups>(new QueryGroups(sweep.Id, param, metric))).Groups);
        return new TopReport(sweep.Id, metric, (await Ask<LeaderboardRows>(new QueryTop(sweep.Id, metric, maximize, request.Top))).Rows);
    }
}
