using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Actor;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Core.Config;
using RecCluster.Core.Evaluation;
using RecCluster.Core.Sweeps;
using Spectre.Console;

namespace RecCluster.Cli;

public static class LeaderboardCommand
{
    private static readonly string[] Formats = ["table", "json", "csv"];

    public static Command Create()
    {
        var state = new Option<DirectoryInfo>("--state") { Description = "State folder of the sweep(s).", DefaultValueFactory = _ => new DirectoryInfo("reccluster-state") };
        var store = StoreOption.Create();
        var sweep = new Option<string?>("--sweep") { Description = "Sweep id (default: the most recent sweep in the state folder)." };
        var top = new Option<int>("--top") { Description = "How many trials to show.", DefaultValueFactory = _ => 10 };
        var metric = new Option<string?>("--metric") { Description = "Sort metric: a validation metric at the best epoch (ndcg@10) or a test one (test:ndcg@10). Default: the sweep's objective." };
        var groupBy = new Option<string?>("--group-by") { Description = "Group trials by a hyperparameter and show mean ± std of the metric (e.g. sample_seed repeats)." };
        var trial = new Option<int?>("--trial") { Description = "Show one trial's epoch-by-epoch history instead." };
        var format = new Option<string>("--format") { Description = "table, json or csv.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong(Formats);
        top.InRange(1, null, "--top must be at least 1");
        var command = new Command("leaderboard", "Query a sweep's trials: top-k by any metric, one trial's history, or groups by a hyperparameter.");
        foreach (var option in new Option[] { state, store, sweep, top, metric, groupBy, trial, format }) command.Options.Add(option);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () => Run(
            StoreOption.Location(parse, store, parse.GetValue(state)!), parse.GetValue(sweep),
            parse.GetValue(top), parse.GetValue(metric), parse.GetValue(groupBy), parse.GetValue(trial), parse.GetValue(format)!,
            parse.InvocationConfiguration.Output)));
        return command;
    }

    private static int Run(StoreLocation location, string? sweepId, int top, string? metric, string? groupBy, int? trial, string format,
        TextWriter output)
    {
        // Opened once here so that a missing or unreachable store is reported at once, in the store's own words; the
        // leaderboard actor then opens and owns the connection that answers the queries.
        new LeaderboardStore(location, readOnly: true).Dispose();
        using var system = ActorSystem.Create("reccluster-query", LocalSweep.SystemConfig);
        var leaderboard = system.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(location, ReadOnly: true)), "leaderboard");
        T Ask<T>(IProtocolMessage query) => leaderboard.Ask<T>(query, TimeSpan.FromSeconds(30)).Result;
        var sweeps = Ask<SweepRows>(new QuerySweeps()).Sweeps;
        var sweep = sweepId is null ? sweeps.LastOrDefault() : sweeps.FirstOrDefault(s => s.Id == sweepId);
        if (sweep is null)
            throw sweepId is null ? new ArgumentException($"no sweep in {location}")
                : new UsageException($"no sweep '{sweepId}' in {location}; known: {string.Join(", ", sweeps.Select(s => s.Id))}");
        metric ??= sweep.ObjectiveMetric;
        var bare = metric.StartsWith("test:") ? metric[5..] : metric;
        if (!MetricName.TryParse(bare, out _, out _)) throw new UsageException($"--metric '{metric}' is not a metric name like ndcg@10 or test:ndcg@10");
        bool maximize = true;   // every supported metric is better when higher

        if (trial is { } index)
        {
            var history = Ask<TrialHistory>(new QueryHistory(sweep.Id, index)).Epochs;
            if (history.Count == 0) throw new ArgumentException($"trial {index} has no recorded epochs in sweep {sweep.Id}");
            var names = history.SelectMany(h => h.Valid.Keys).Distinct().Order().ToList();
            Emit(output, format, ["attempt", "epoch", "loss", .. names],
                history.Select(h => (object?[])[h.Attempt, h.Epoch, h.Loss, .. names.Select(n => Metric(h.Valid, n))]));
            return Errors.Ok;
        }
        if (groupBy is not null)
        {
            var groups = Ask<TrialGroups>(new QueryGroups(sweep.Id, groupBy, metric)).Groups;
            Emit(output, format, [groupBy, "trials", $"{metric} mean", $"{metric} std"],
                groups.Select(g => (object?[])[g.Value, g.Trials, g.Mean, g.Std]));
            return Errors.Ok;
        }
        var rows = Ask<LeaderboardRows>(new QueryTop(sweep.Id, metric, maximize, top)).Rows;
        if (format == "table") Consoles.For(output).Write(Table(rows, metric, top));
        else
        {
            var names = rows.SelectMany(r => r.Valid.Keys).Distinct().Order().ToList();
            Emit(output, format, ["trial", "model", "status", "best_epoch", "epochs_run", "params", .. names.Select(n => "valid:" + n),
                    .. names.Select(n => "test:" + n)],
                rows.Select(r => (object?[])[r.Trial.Index, r.Trial.Model, r.Trial.Status, r.Trial.BestEpoch, r.Trial.EpochsRun,
                    TrialCodec.Params(r.Trial.Params),
                    .. names.Select(n => Metric(r.Valid, n)), .. names.Select(n => Metric(r.Test, n))]));
        }
        return Errors.Ok;
    }

    /// <summary>Hyperparameters whose values differ between trials (all of them when none differ).</summary>
    public static IReadOnlySet<string> VaryingParams(IEnumerable<IReadOnlyDictionary<string, ParamValue>> trials)
    {
        var list = trials.ToList();
        var keys = list.SelectMany(p => p.Keys).ToHashSet();
        var varying = keys.Where(k => list.Select(p => p.TryGetValue(k, out var v) ? v.ToString() : null).Distinct().Count() > 1).ToHashSet();
        return varying.Count > 0 ? varying : keys;
    }

    public static string ParamsText(IReadOnlyDictionary<string, ParamValue> values, IReadOnlySet<string> keys) =>
        string.Join(" ", values.Where(kv => keys.Contains(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));

    public static Table Table(IReadOnlyList<LeaderboardRow> rows, string metric, int top)
    {
        var shown = VaryingParams(rows.Select(r => r.Trial.Params));
        var bare = metric.StartsWith("test:") ? metric[5..] : metric;
        var table = new Table().Title($"leaderboard by {Markup.Escape(metric)}")
            .AddColumns("rank", "trial", "model", "status", "best epoch", "epochs", $"valid {bare}", $"test {bare}", "params");
        int rank = 0;
        foreach (var r in rows.Take(top))
            table.AddRow((++rank).ToString(), r.Trial.Index.ToString(), r.Trial.Model, r.Trial.Status, r.Trial.BestEpoch?.ToString() ?? "",
                r.Trial.EpochsRun?.ToString() ?? "", F(r.Valid.GetValueOrDefault(bare)), F(r.Test.GetValueOrDefault(bare)),
                Markup.Escape(ParamsText(r.Trial.Params, shown)));
        return table;
    }

    private static object? Metric(IReadOnlyDictionary<string, double> metrics, string name) => metrics.TryGetValue(name, out var v) ? v : null;

    /// <summary>Writes rows whose cells are numbers, texts, JSON objects or null (missing), each as the format needs it.</summary>
    private static void Emit(TextWriter output, string format, IReadOnlyList<string> header, IEnumerable<object?[]> rows)
    {
        switch (format)
        {
            case "json":
                var array = new JsonArray();
                foreach (var row in rows)
                    array.Add(new JsonObject(header.Select((h, i) => KeyValuePair.Create(h, Json(row[i])))));
                output.WriteLine(array.ToJsonString());
                break;
            case "csv":
                output.WriteLine(string.Join(",", header.Select(Csv)));
                foreach (var row in rows) output.WriteLine(string.Join(",", row.Select(c => Csv(Text(c)))));
                break;
            default:
                var table = new Table().AddColumns([.. header.Select(Markup.Escape)]);
                foreach (var row in rows) table.AddRow([.. row.Select(c => Markup.Escape(Text(c)))]);
                Consoles.For(output).Write(table);
                break;
        }
    }

    private static JsonNode? Json(object? cell) => cell switch
    {
        null => null,
        JsonNode node => node,
        string text => JsonValue.Create(text),
        int i => JsonValue.Create(i),
        double d => JsonValue.Create(d),
        _ => throw new ArgumentOutOfRangeException(nameof(cell), cell.GetType().Name),
    };

    private static string Text(object? cell) => cell switch
    {
        null => "",
        double d => F(d),
        JsonNode node => node.ToJsonString(),
        _ => Convert.ToString(cell, CultureInfo.InvariantCulture) ?? "",
    };

    private static string Csv(string v) => v.Contains(',') || v.Contains('"') ? $"\"{v.Replace("\"", "\"\"")}\"" : v;

    private static string F(double? v) => v?.ToString("F6", CultureInfo.InvariantCulture) ?? "";
}
