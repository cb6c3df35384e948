using System.Collections.Concurrent;
using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Akka.Actor;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;
using RecCluster.Training;
using Spectre.Console;

namespace RecCluster.Cli;

public static class SweepCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("sweep") { Description = "Sweep YAML: data, evaluation, objective, models with search spaces, search, scheduler, resources." };
        var state = new Option<DirectoryInfo>("--state") { Description = "State folder (leaderboard.sqlite, trial specs); re-running on the same file and folder resumes.", DefaultValueFactory = _ => new DirectoryInfo("reccluster-state") };
        var store = StoreOption.Create();
        var slots = new Option<int>("--slots") { Description = "CPU trial slots on this node (default: cores / cpus_per_trial)." };
        var gpus = new Option<int?>("--gpus") { Description = "GPUs on this node (default: what CUDA reports); declaring them lets you test GPU placement without CUDA." };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary as the last line of stdout." };
        var heartbeat = new Option<int>("--heartbeat-timeout") { Description = "Seconds without a report after which a trial counts as hung and is killed.", DefaultValueFactory = _ => 300 };
        var check = new Option<bool>("--check")
        {
            Description = "Dry run: check the file, load the data, expand the search space and build the first trial's model, " +
                "then stop without running trials or writing state (exit 0 when the sweep would start).",
        };
        var dashboard = new Option<bool>("--dashboard")
        {
            Description = "Serve the web dashboard while the sweep runs, at http://127.0.0.1:PORT/ (see --port); it stops when the " +
                "sweep ends.",
        };
        var port = DashboardCommand.PortOption();
        slots.InRange(0, null, "--slots must be 0 (automatic) or more");
        gpus.InRange(0, "--gpus must be 0 or more");
        heartbeat.InRange(1, null, "--heartbeat-timeout must be at least 1 second");
        var command = new Command("sweep", "Run a hyperparameter sweep in local single-node mode with a live table of trials; Ctrl+C stops cleanly and keeps finished results.");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { state, store, slots, gpus, json, heartbeat, check, dashboard, port })
            command.Options.Add(option);
        command.SetAction(parse =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            ImportWarnings.Print(parse.GetValue(file)!.FullName, stderr);
            return Errors.Guard(stderr, () =>
            {
                if (parse.GetResult(port) is { Implicit: false } && !parse.GetValue(dashboard))
                    throw new UsageException("--port is the dashboard's: add --dashboard");
                if (parse.GetValue(check) && parse.GetValue(dashboard))
                    throw new UsageException("--check runs nothing to watch: leave out --dashboard");
                return parse.GetValue(check)
                    ? Check(parse.GetValue(file)!, stdout)
                    : Run(parse.GetValue(file)!, parse.GetValue(state)!, StoreOption.Location(parse, store, parse.GetValue(state)!),
                        parse.GetValue(slots), parse.GetValue(gpus), parse.GetValue(json),
                        TimeSpan.FromSeconds(parse.GetValue(heartbeat)), parse.GetValue(dashboard) ? parse.GetValue(port) : null,
                        stdout, stderr);
            });
        });
        return command;
    }

    private static int Check(FileInfo file, TextWriter stdout)
    {
        var config = ExperimentLoader.LoadSweep(file.FullName);
        var searcher = Searchers.Create(config.Models, config.Search);
        int trials = 0;
        var firstOfModel = new Dictionary<string, TrialSuggestion>(StringComparer.Ordinal);
        while (searcher.Next() is { } trial)
        {
            trials++;
            firstOfModel.TryAdd(trial.Model, trial);
        }
        // Trials of one model differ only in values the config already checked; building one model per kind shows it fits the data.
        var built = firstOfModel.Values.Select(t => (t.Model, Check: TrialCheck.Run(config.TrialExperiment(t.Model, t.Params)))).ToList();
        var data = built[0].Check.Data;
        stdout.WriteLine($"{file.Name}: ready to sweep {trials} trial(s) ({config.Search.Algorithm.ToString().ToLowerInvariant()} search); " +
            string.Join(", ", built.Select(b => $"{b.Model} ({b.Check.Parameters} parameters in its first trial)")) +
            $" on {built[0].Check.Device}; data: {data.Source} ({data.Format}), {data.Users} users, {data.Items} items; nothing was run");
        return Errors.Ok;
    }

    /// <param name="dashboardPort">Serve the dashboard on this port while the sweep runs; null: no dashboard.</param>
    private static int Run(FileInfo file, DirectoryInfo state, StoreLocation store, int slotCount, int? gpuCount, bool json, TimeSpan heartbeat,
        int? dashboardPort, TextWriter stdout, TextWriter stderr)
    {
        var config = ExperimentLoader.LoadSweep(file.FullName);   // nothing is written unless the whole file is valid
        var resources = config.Resources;
        int gpus = gpuCount ?? (resources.GpusPerTrial > 0 ? (int)TorchSharp.torch.cuda.device_count() : 0);
        int cpuSlots = slotCount > 0 ? slotCount : Math.Max(1, Environment.ProcessorCount / resources.CpusPerTrial);
        var slots = WorkerAgent.PlanSlots(cpuSlots, gpus, resources.GpusPerTrial);

        // Progress (the live table, or one line per event when stderr is not a terminal) on stderr; results on stdout.
        var console = Consoles.For(stderr);
        var results = Consoles.For(stdout);
        bool interactive = Consoles.IsTerminal(stderr);
        var updates = new ConcurrentQueue<TrialUpdated>();
        // Checkpoints live beside the leaderboard: a retried or resumed trial continues from its last finished epoch.
        var launcher = ProcessTrialLauncher.ForCurrentProgram(Path.Combine(state.FullName, "trials"), Path.Combine(state.FullName, "checkpoints"));

        var system = ActorSystem.Create("reccluster", LocalSweep.SystemConfig);
        CoordinatorApi? dashboard = null;
        try
        {
            // The same server a coordinator runs, over the local sweep's manager: the pages, the API and its event feed. It listens
            // before the sweep starts (answering 503 until attached), so a taken port stops the command before anything is written.
            if (dashboardPort is { } port)
                dashboard = DashboardCommand.Start(port, null, new ApiOptions(ReadOnly: true, Mode: ServerMode.Local), stderr);
            var subscriber = system.ActorOf(Props.Create(() => new QueueActor(updates)));
            var sweep = new LocalSweep(config, store, slots, launcher, heartbeat, subscriber, system);
            if (dashboard is not null)
            {
                dashboard.Attach(sweep.Manager);
                DashboardCommand.Announce(dashboard, stderr);
            }
            var view = new LiveView(config, sweep.SweepId);
            console.MarkupLine($"sweep [bold]{Markup.Escape(sweep.SweepId)}[/]: {config.Search.Algorithm.ToString().ToLowerInvariant()} search, " +
                $"{config.Scheduler.Kind.ToString().ToLowerInvariant()} scheduler, {slots.Count} slot(s), state {Markup.Escape(state.FullName)}" +
                (sweep.PreviouslyFinished > 0 ? $"; resuming, {sweep.PreviouslyFinished} trial(s) already finished" : ""));
            using var cancelled = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = true;
                if (cancelled.IsCancellationRequested) return;
                cancelled.Cancel();
                console.MarkupLine("[yellow]stopping: running trials are interrupted, finished results are kept[/]");
                sweep.Abort();
            };
            Console.CancelKeyPress += onCancel;
            var run = sweep.RunAsync();
            if (interactive)
                console.Live(view.Render()).AutoClear(false).Start(ctx =>
                {
                    while (!run.IsCompleted)
                    {
                        run.Wait(TimeSpan.FromMilliseconds(250));
                        while (updates.TryDequeue(out var u)) view.Apply(u);
                        ctx.UpdateTarget(view.Render());
                    }
                });
            else
                while (!run.IsCompleted)
                {
                    run.Wait(TimeSpan.FromMilliseconds(250));
                    while (updates.TryDequeue(out var u)) if (view.Apply(u) is { } line) console.WriteLine(line);
                }
            while (updates.TryDequeue(out var u)) if (view.Apply(u) is { } line && !interactive) console.WriteLine(line);
            Console.CancelKeyPress -= onCancel;
            var summary = run.Result.Summary;

            var trials = sweep.Trials().Result;
            var top = sweep.Top(config.Experiment.Objective.Metric, config.Experiment.Objective.Maximize, int.MaxValue).Result;
            results.Write(LeaderboardCommand.Table(top, config.Experiment.Objective.Metric, 20));
            int Count(string status) => trials.Count(t => t.Status == status);
            long totalEpochs = summary.TotalEpochs;
            results.MarkupLine($"{trials.Count} trials: {Count(TrialStatus.Completed)} completed, {Count(TrialStatus.Pruned)} pruned, {Count(TrialStatus.Failed)} failed" +
                (summary.Interrupted > 0 ? $", {summary.Interrupted} interrupted" : "") + $"; {totalEpochs} epochs in all");
            if (json)
            {
                var best = top.FirstOrDefault();
                stdout.WriteLine(new JsonObject
                {
                    ["sweep_id"] = sweep.SweepId,
                    ["trials"] = trials.Count,
                    ["completed"] = Count(TrialStatus.Completed),
                    ["pruned"] = Count(TrialStatus.Pruned),
                    ["failed"] = Count(TrialStatus.Failed),
                    ["interrupted"] = Count(TrialStatus.Interrupted),
                    ["total_epochs"] = totalEpochs,
                    ["best"] = best is null ? null : new JsonObject
                    {
                        ["trial"] = best.Trial.Index, ["model"] = best.Trial.Model, ["params"] = TrialCodec.Params(best.Trial.Params),
                        ["valid"] = TrialCodec.Metrics(best.Valid), ["test"] = TrialCodec.Metrics(best.Test),
                    },
                }.ToJsonString());
            }
            sweep.DisposeAsync().AsTask().Wait();
            return cancelled.IsCancellationRequested ? 130 : Errors.Ok;
        }
        finally
        {
            dashboard?.DisposeAsync().AsTask().Wait();
            system.Terminate().Wait();
        }
    }

    /// <summary>Receives leaderboard notifications for the console thread.</summary>
    private sealed class QueueActor : ReceiveActor
    {
        public QueueActor(ConcurrentQueue<TrialUpdated> queue) => Receive<TrialUpdated>(queue.Enqueue);
    }

    /// <summary>The live table: one row per trial with its status, epoch and latest validation objective.</summary>
    private sealed class LiveView(SweepConfig config, string sweepId)
    {
        private sealed class Row
        {
            public string Status = "";
            public int Attempt;
            public int? Epoch;
            public double? Objective;
            public string Params = "";
            public int? Epochs;
            public DateTime Started = DateTime.UtcNow;
        }

        private readonly SortedDictionary<int, Row> _rows = [];
        private readonly string _metric = config.Experiment.Objective.Metric;
        private readonly IReadOnlySet<string> _searched = config.Models.SelectMany(m => m.Space.Where(kv => kv.Value is not FixedDomain).Select(kv => kv.Key)).ToHashSet();
        private double? _best;
        private int? _bestTrial;

        public string? Apply(TrialUpdated u)
        {
            if (u.SweepId != sweepId) return null;
            if (!_rows.TryGetValue(u.Index, out var row)) _rows[u.Index] = row = new Row();
            if (u.Params.Count > 0)
            {
                row.Params = LeaderboardCommand.ParamsText(u.Params, _searched.Count > 0 ? _searched : u.Params.Keys.ToHashSet());
                var model = config.Models.FirstOrDefault(m => m.Space.Keys.All(u.Params.ContainsKey))?.Name;
                var resolved = model is null ? null : TrialParameters.Resolve(model, u.Params);
                row.Epochs = resolved?.Values.ContainsKey("n_epochs") == true ? (int)resolved.GetInt("n_epochs") : null;
            }
            if (u.Attempt != row.Attempt) { row.Attempt = u.Attempt; row.Started = DateTime.UtcNow; }
            row.Status = u.Status;
            if (u.Epoch is { } e && u.Status == TrialStatus.Running) row.Epoch = e;
            if (u.Valid?.TryGetValue(_metric, out var v) == true)
            {
                row.Objective = v;
                if (u.Status is TrialStatus.Completed or TrialStatus.Pruned && (_best is null || config.Experiment.Objective.IsBetter(v, _best.Value)))
                    (_best, _bestTrial) = (v, u.Index);
            }
            return u.Status is TrialStatus.Running && u.Epoch is null ? $"trial {u.Index} (attempt {u.Attempt}) started: {row.Params}"
                : u.Status is TrialStatus.Completed or TrialStatus.Pruned ? $"trial {u.Index} {u.Status}: {_metric} {Format(row.Objective)}"
                : u.Status is TrialStatus.Failed or TrialStatus.Pending or TrialStatus.Interrupted ? $"trial {u.Index} {u.Status} (attempt {u.Attempt})"
                : null;
        }

        public Table Render()
        {
            var table = new Table().Title($"{Markup.Escape(sweepId)}  best {Markup.Escape(_metric)}: {Format(_best)}{(_bestTrial is { } b ? $" (trial {b})" : "")}")
                .AddColumns("trial", "status", "attempt", "epoch", $"valid {_metric}", "elapsed", "ETA", "params");
            foreach (var (index, row) in _rows)
            {
                var color = row.Status switch { TrialStatus.Completed => "green", TrialStatus.Pruned => "yellow", TrialStatus.Failed => "red", TrialStatus.Running => "blue", _ => "grey" };
                var running = DateTime.UtcNow - row.Started;
                var elapsed = row.Status == TrialStatus.Running ? running.ToString(@"mm\:ss") : "";
                // At most: the remaining epochs at the pace so far (early stopping or pruning may end it sooner).
                var eta = row.Status == TrialStatus.Running && row.Epoch is > 0 and var e && row.Epochs is { } n
                    ? TimeSpan.FromSeconds(running.TotalSeconds / e * Math.Max(0, n - e)).ToString(@"mm\:ss") : "";
                var epoch = row.Epoch is { } done ? (row.Epochs is { } total ? $"{done}/{total}" : done.ToString()) : "";
                table.AddRow(index.ToString(), $"[{color}]{row.Status}[/]", row.Attempt.ToString(), epoch, Format(row.Objective), elapsed, eta, Markup.Escape(row.Params));
            }
            return table;
        }

        private static string Format(double? v) => v?.ToString("F4", CultureInfo.InvariantCulture) ?? "–";
    }
}
