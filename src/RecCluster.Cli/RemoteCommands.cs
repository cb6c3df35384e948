using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace RecCluster.Cli;

/// <summary>
/// Clients of a coordinator's HTTP API: <c>submit</c>, <c>status</c>, <c>cancel</c> and <c>cluster</c> (and
/// <c>leaderboard --coordinator</c>, in <see cref="LeaderboardCommand"/>). Results on stdout, progress on stderr.
/// </summary>
public static class RemoteCommands
{
    /// <summary>How often <c>status --follow</c> asks.</summary>
    public static TimeSpan FollowInterval { get; set; } = TimeSpan.FromSeconds(1);

    public static Command Submit()
    {
        var file = new Argument<FileInfo>("sweep") { Description = "Sweep YAML (as for `reccluster sweep`); its data paths must be readable on the coordinator." };
        var json = new Option<bool>("--json") { Description = "Print {\"sweep_id\": ...} instead of the bare id." };
        var command = new Command("submit",
            "Submit a sweep to a coordinator, which checks it as `reccluster sweep` does (every problem as file:line:col, exit 2, nothing " +
            "started) and queues it; prints the sweep id. Submitting the same text again is the same sweep (resumed if it ended).");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { json }) command.Options.Add(option);
        var coordinator = CoordinatorClient.Options(command);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            using var client = CoordinatorClient.Require(parse, coordinator);
            var path = parse.GetValue(file)!.FullName;
            if (!File.Exists(path)) throw new UsageException($"{path} does not exist");
            // The path travels with the text: relative data paths resolve against its folder, on the coordinator.
            var created = client.Post<SweepCreated>($"api/sweeps?path={Uri.EscapeDataString(path)}", File.ReadAllText(path), stderr);
            stdout.WriteLine(parse.GetValue(json) ? JsonSerializer.Serialize(created, ApiJson.Options) : created.SweepId);
            stderr.WriteLine($"submitted; follow it with: reccluster status --coordinator {client.Url} --sweep {created.SweepId} --follow");
            return Errors.Ok;
        }));
        return command;
    }

    public static Command Status()
    {
        var sweep = new Option<string?>("--sweep") { Description = "One sweep's status (default: every sweep the coordinator was given)." };
        var follow = new Option<bool>("--follow")
        {
            Description = "Ask every second and redraw on stderr until the sweep (or every sweep) has ended; then print the status.",
        };
        var json = new Option<bool>("--json") { Description = "Print the status as the API's JSON (one line)." };
        var command = new Command("status",
            "Show sweeps on a coordinator: state (queued, running, finished, cancelled), trial counts, epochs and the best trial.");
        foreach (var option in new Option[] { sweep, follow, json }) command.Options.Add(option);
        var coordinator = CoordinatorClient.Options(command);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            using var client = CoordinatorClient.Require(parse, coordinator);
            var id = parse.GetValue(sweep);
            IReadOnlyList<SweepView> Fetch() => id is null
                ? client.Get<SweepViews>("api/sweeps").Sweeps : [client.Get<SweepView>($"api/sweeps/{Uri.EscapeDataString(id)}")];
            var views = parse.GetValue(follow) ? Follow(Fetch, stderr) : Fetch();
            if (parse.GetValue(json))
                stdout.WriteLine(id is null ? JsonSerializer.Serialize(new SweepViews(views), ApiJson.Options)
                    : JsonSerializer.Serialize(views[0], ApiJson.Options));
            else Consoles.For(stdout).Write(Table(views));
            return Errors.Ok;
        }));
        return command;
    }

    /// <summary>Polls until every sweep has ended: a live table on a terminal, else a line per change.</summary>
    private static IReadOnlyList<SweepView> Follow(Func<IReadOnlyList<SweepView>> fetch, TextWriter stderr)
    {
        var views = fetch();
        bool Ended() => views.All(v => v.Ended);
        if (Consoles.IsTerminal(stderr))
            Consoles.For(stderr).Live(Table(views)).AutoClear(true).Start(live =>
            {
                while (!Ended())
                {
                    Thread.Sleep(FollowInterval);
                    views = fetch();
                    live.UpdateTarget(Table(views));
                }
            });
        else
        {
            var last = "";
            while (true)
            {
                var line = string.Join("; ", views.Select(Line));
                if (line != last) stderr.WriteLine(last = line);
                if (Ended()) break;
                Thread.Sleep(FollowInterval);
                views = fetch();
            }
        }
        return views;
    }

    private static string Line(SweepView v) =>
        $"{v.SweepId} {v.State}: {v.Completed}/{v.Trials} completed, {v.Running} running, {v.Pruned} pruned, {v.Failed} failed, " +
        $"{v.TotalEpochs} epochs" + (v.Best is { } b ? $", best trial {b.Trial} {b.Metric} {LeaderboardGrid.Fixed(Objective(b))}" : "");

    private static double? Objective(BestTrial best) => best.Valid.TryGetValue(best.Metric, out var v) ? v : null;

    private static Table Table(IReadOnlyList<SweepView> views)
    {
        var table = new Table().AddColumns("sweep", "state", "trials", "completed", "running", "pruned", "failed", "interrupted", "epochs",
            "best trial", "best valid");
        foreach (var v in views)
            table.AddRow(Markup.Escape(v.SweepId), v.State, N(v.Trials), N(v.Completed), N(v.Running), N(v.Pruned), N(v.Failed),
                N(v.Interrupted), v.TotalEpochs.ToString(CultureInfo.InvariantCulture), v.Best is { } b ? N(b.Trial) : "",
                v.Best is { } best ? Markup.Escape($"{best.Metric} {LeaderboardGrid.Fixed(Objective(best))}") : "");
        return table;
    }

    public static Command Cancel()
    {
        var sweep = new Option<string>("--sweep") { Description = "The sweep to cancel.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print the sweep's status as the API's JSON." };
        var command = new Command("cancel",
            "Cancel a sweep on a coordinator: its running trials are stopped and recorded as interrupted (submitting it again resumes it).");
        foreach (var option in new Option[] { sweep, json }) command.Options.Add(option);
        var coordinator = CoordinatorClient.Options(command);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            using var client = CoordinatorClient.Require(parse, coordinator);
            var view = client.Delete<SweepView>($"api/sweeps/{Uri.EscapeDataString(parse.GetValue(sweep)!)}");
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) stdout.WriteLine(JsonSerializer.Serialize(view, ApiJson.Options));
            else stdout.WriteLine(Line(view));
            return Errors.Ok;
        }));
        return command;
    }

    public static Command Cluster()
    {
        var json = new Option<bool>("--json") { Description = "Print the API's JSON." };
        var command = new Command("cluster", "Show a coordinator's cluster: its members and roles, and every worker's slots (busy, free).");
        foreach (var option in new Option[] { json }) command.Options.Add(option);
        var coordinator = CoordinatorClient.Options(command);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            using var client = CoordinatorClient.Require(parse, coordinator);
            var cluster = client.Get<ClusterView>("api/cluster");
            var stdout = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                stdout.WriteLine(JsonSerializer.Serialize(cluster, ApiJson.Options));
                return Errors.Ok;
            }
            var members = new Table().Title("members").AddColumns("address", "roles", "status");
            foreach (var m in cluster.Members) members.AddRow(Markup.Escape(m.Address), Markup.Escape(string.Join(",", m.Roles)), m.Status);
            var workers = new Table().Title($"slots: {cluster.SlotsTotal} ({cluster.SlotsBusy} busy, {cluster.SlotsFree} free)")
                .AddColumns("node", "worker", "slots", "busy", "free");
            foreach (var w in cluster.Workers) workers.AddRow(Markup.Escape(w.Node), Markup.Escape(w.Worker), N(w.Total), N(w.Busy), N(w.Free));
            Consoles.For(stdout).Write(new Rows(new IRenderable[] { members, workers }));
            return Errors.Ok;
        }));
        return command;
    }

    private static string N(int value) => value.ToString(CultureInfo.InvariantCulture);
}
