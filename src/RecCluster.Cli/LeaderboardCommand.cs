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
        var sweep = new Option<string?>("--sweep") { Description = "Sweep id (default: the most recent sweep in the state folder; required with --coordinator)." };
        var top = new Option<int>("--top") { Description = "How many trials to show.", DefaultValueFactory = _ => 10 };
        var metric = new Option<string?>("--metric") { Description = "Sort metric: a validation metric at the best epoch (ndcg@10) or a test one (test:ndcg@10). Default: the sweep's objective." };
        var groupBy = new Option<string?>("--group-by") { Description = "Group trials by a hyperparameter and show mean ± std of the metric (e.g. sample_seed repeats)." };
        var trial = new Option<int?>("--trial") { Description = "Show one trial's epoch-by-epoch history instead." };
        var format = new Option<string>("--format") { Description = "table, json or csv.", DefaultValueFactory = _ => "table" };
        format.AcceptOnlyFromAmong(Formats);
        top.InRange(1, null, "--top must be at least 1");
        var command = new Command("leaderboard", "Query a sweep's trials: top-k by any metric, one trial's history, or groups by a hyperparameter.");
        foreach (var option in new Option[] { state, store }) command.Options.Add(option);
        var coordinator = CoordinatorClient.Options(command);
        coordinator.Url.Description += " Query the coordinator's leaderboard instead of a state folder or store.";
        foreach (var option in new Option[] { sweep, top, metric, groupBy, trial, format }) command.Options.Add(option);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var request = new LeaderboardRequest(parse.GetValue(sweep), parse.GetValue(top), parse.GetValue(metric), parse.GetValue(groupBy),
                parse.GetValue(trial));
            var (chosen, output) = (parse.GetValue(format)!, parse.InvocationConfiguration.Output);
            // RECCLUSTER_COORDINATOR picks the coordinator unless a state folder or store is named; the flag always does.
            bool local = parse.GetResult(state) is { Implicit: false } || parse.GetResult(store) is { Implicit: false };
            bool flag = parse.GetValue(coordinator.Url) is not null;
            if (local && parse.GetValue(coordinator.Token) is not null) throw new UsageException("--token is for --coordinator");
            if (flag && local) throw new UsageException("--coordinator reads the coordinator's store: leave out --state and --store");
            if ((flag || !local) && CoordinatorClient.From(parse, coordinator) is { } client)
                using (client) Render(Remote(client, request), chosen, output);
            else Run(StoreOption.Location(parse, store, parse.GetValue(state)!), request, chosen, output);
            return Errors.Ok;
        }));
        return command;
    }

    /// <summary>The same report from a coordinator's HTTP API (the store's rows as the API sends them).</summary>
    private static LeaderboardReport Remote(CoordinatorClient client, LeaderboardRequest request)
    {
        if (request.SweepId is null)
            throw new UsageException($"which sweep? --sweep ID (reccluster status --coordinator {client.Url} lists them)");
        var sweep = $"api/sweeps/{Uri.EscapeDataString(request.SweepId)}";
        if (request.Trial is { } trial) return client.Get<HistoryReport>($"{sweep}/trials/{trial}");
        var query = $"{sweep}/leaderboard?top={request.Top}" + (request.Metric is { } m ? $"&metric={Uri.EscapeDataString(m)}" : "") +
            (request.GroupBy is { } g ? $"&group_by={Uri.EscapeDataString(g)}" : "");
        return request.GroupBy is null ? client.Get<TopReport>(query) : client.Get<GroupsReport>(query);
    }

    private static void Run(StoreLocation location, LeaderboardRequest request, string format, TextWriter output)
    {
        // Opened once here so that a missing or unreachable store is reported at once, in the store's own words; the
        // leaderboard actor then opens and owns the connection that answers the queries.
        new LeaderboardStore(location, readOnly: true).Dispose();
        using var system = ActorSystem.Create("reccluster-query", LocalSweep.SystemConfig);
        var leaderboard = system.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(location, ReadOnly: true)), "leaderboard");
        Render(Query(() => LeaderboardQuery.RunAsync(leaderboard, request, location.ToString(), TimeSpan.FromSeconds(30))), format, output);
    }

    /// <summary>Runs a leaderboard query; a bad flag or an unknown sweep is bad input (exit 2), nothing to show a failure.</summary>
    public static T Query<T>(Func<Task<T>> query)
    {
        try
        {
            return query().GetAwaiter().GetResult();
        }
        catch (LeaderboardQueryException e) when (e.Problem is LeaderboardProblem.BadParameter)
        {
            throw new UsageException($"--{e.Parameter!.Replace('_', '-')} {e.Message}");
        }
        catch (LeaderboardQueryException e) when (e.Problem is LeaderboardProblem.UnknownSweep)
        {
            throw new UsageException(e.Message);
        }
        catch (LeaderboardQueryException e)
        {
            throw new ArgumentException(e.Message);
        }
    }

    /// <summary>Writes a report in a format (table, json, csv): every leaderboard the CLI prints, local or from a coordinator.</summary>
    public static void Render(LeaderboardReport report, string format, TextWriter output)
    {
        if (format != "table") report.Grid().Write(output, format);
        else if (report is TopReport top) Consoles.For(output).Write(Table(top.Rows, top.Metric, top.Rows.Count));
        else
        {
            var grid = report.Grid();
            var table = new Table().AddColumns([.. grid.Header.Select(Markup.Escape)]);
            foreach (var row in grid.Rows) table.AddRow([.. row.Select(c => Markup.Escape(LeaderboardGrid.Text(c)))]);
            Consoles.For(output).Write(table);
        }
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
            .AddColumns(["rank", .. LeaderboardColumns.Trial.Select(c => c.Title), $"valid {bare}", $"test {bare}", "params"]);
        int rank = 0;
        foreach (var r in rows.Take(top))
            table.AddRow([(++rank).ToString(CultureInfo.InvariantCulture),
                .. LeaderboardColumns.Trial.Select(c => Markup.Escape(LeaderboardGrid.Text(c.Cell(r.Trial)))),
                LeaderboardGrid.Fixed(r.Valid.GetValueOrDefault(bare)), LeaderboardGrid.Fixed(r.Test.GetValueOrDefault(bare)),
                Markup.Escape(ParamsText(r.Trial.Params, shown))]);
        return table;
    }
}
