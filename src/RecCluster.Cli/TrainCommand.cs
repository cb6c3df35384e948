using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;
using RecCluster.Training;
using Spectre.Console;

namespace RecCluster.Cli;

public static class TrainCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("config") { Description = "Experiment YAML naming one model with fixed hyperparameters." };
        var output = new Option<DirectoryInfo?>("--out")
        {
            Description = "Folder for result.json, history.jsonl, the best checkpoint (best.pt) and the one to resume from (resume.ckpt).",
        };
        var resume = new Option<bool>("--resume")
        {
            Description = "Continue an interrupted run from --out's resume.ckpt (same config only); without one, start fresh.",
        };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object on the last line of stdout." };
        var threads = new Option<int>("--threads") { Description = "Torch CPU threads (default: torch's choice).", DefaultValueFactory = _ => 0 };
        var check = new Option<bool>("--check")
        {
            Description = "Dry run: check the config, load the data and build the model, then stop without training " +
                "(exit 0 when train would start).",
        };
        threads.InRange(0, null, "--threads must be 0 or more");
        var command = new Command("train", "Train and evaluate one trial, showing progress; writes results and the best checkpoint under --out.");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { output, resume, json, threads, check }) command.Options.Add(option);
        command.Validators.Add(r => { if (r.GetValue(resume) && r.GetValue(output) is null) r.AddError("--resume needs --out"); });
        command.SetAction(parse =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            ImportWarnings.Print(parse.GetValue(file)!.FullName, stderr);
            return Errors.Guard(stderr, () => parse.GetValue(check)
                ? Check(parse.GetValue(file)!, parse.GetValue(json), stdout)
                : Run(parse.GetValue(file)!, parse.GetValue(output), parse.GetValue(resume), parse.GetValue(json), parse.GetValue(threads),
                    stdout, stderr));
        });
        return command;
    }

    private static int Check(FileInfo file, bool json, TextWriter stdout)
    {
        var config = ExperimentLoader.LoadTrial(file.FullName);
        var result = TrialCheck.Run(config);
        var model = config.Models[0].Name;
        if (json)
            stdout.WriteLine(new JsonObject
            {
                ["check"] = "ok", ["model"] = model, ["device"] = result.Device, ["parameters"] = result.Parameters,
                ["data"] = DataJson(result.Data),
            }.ToJsonString());
        else
            stdout.WriteLine($"{file.Name}: ready to train {model} ({result.Parameters} parameters) on {result.Device}; " +
                $"{DataText(result.Data)}; nothing was trained");
        return Errors.Ok;
    }

    private static int Run(FileInfo file, DirectoryInfo? output, bool resume, bool json, int threads, TextWriter stdout, TextWriter stderr)
    {
        var config = ExperimentLoader.LoadTrial(file.FullName);
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

        var console = Consoles.For(stderr);
        bool interactive = Consoles.IsTerminal(stderr);
        var history = new List<EpochReport>();
        TrialResult result = null!;
        console.MarkupLine($"[bold]{Markup.Escape(config.Name)}[/]: {config.Models[0].Name}, objective {config.Objective.Metric} ({(config.Objective.Maximize ? "max" : "min")})");
        if (resume && !TrialCheckpoint.ExistsIn(output!.FullName))
            console.MarkupLine($"no {TrialCheckpoint.ResumeFile} in {Markup.Escape(output.FullName)} to resume from: starting fresh");
        var options = new TrialOptions(Threads: threads, StateDirectory: output?.FullName, Resume: resume);
        var historyFile = output is null ? null : new HistoryFile(Path.Combine(output.FullName, "history.jsonl"));
        void Train(ProgressContext? context) => result = TrialRunner.Run(config, options,
            new ProgressObserver(console, context, config.Objective.Metric, history, historyFile, output?.FullName), cancel.Token);
        if (interactive)
            console.Progress()
                .AutoClear(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(Train);
        else
            Train(null);

        console.MarkupLine($"[green]{result.Status}[/] on {result.Device} in {result.Seconds:F1}s: best epoch {result.BestEpoch} of {result.EpochsRun}");
        console.MarkupLine($"valid: {Format(result.Valid)}");
        console.MarkupLine($"test:  {Format(result.Test)}");
        if (result.Oracle is not null) console.MarkupLine($"oracle (test): {Format(result.Oracle)}");

        var resultJson = ToJson(config, result);
        if (output is not null)
        {
            File.WriteAllText(Path.Combine(output.FullName, "result.json"), resultJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            console.MarkupLine($"results in {Markup.Escape(output.FullName)}");
        }
        if (json) stdout.WriteLine(resultJson.ToJsonString());
        return Errors.Ok;
    }

    public static JsonObject ToJson(ExperimentConfig config, TrialResult result) => new()
    {
        ["status"] = result.Status,
        ["model"] = config.Models[0].Name,
        ["device"] = result.Device,
        ["best_epoch"] = result.BestEpoch,
        ["epochs_run"] = result.EpochsRun,
        ["valid"] = TrialCodec.Metrics(result.Valid),
        ["test"] = TrialCodec.Metrics(result.Test),
        ["oracle"] = result.Oracle is null ? null : TrialCodec.Metrics(result.Oracle),
        ["seconds"] = Math.Round(result.Seconds, 3),
        ["data"] = DataJson(result.Data),
        ["resumed_from_epoch"] = result.ResumedFromEpoch,
    };

    private static JsonObject DataJson(DataSummary s) => new()
    {
        ["source"] = s.Source, ["format"] = s.Format, ["users"] = s.Users, ["items"] = s.Items, ["interactions"] = s.Interactions,
        ["skipped_users"] = s.SkippedUsers, ["training_users"] = s.TrainingUsers,
    };

    private static string DataText(DataSummary s) =>
        $"data: {s.Source} ({s.Format}): {s.Users} users, {s.Items} items, {s.Interactions} interactions" +
        (s.SkippedUsers > 0 ? $", {s.SkippedUsers} users with < 3 interactions skipped" : "") + $"; {s.TrainingUsers} training users";

    private static string Format(IReadOnlyDictionary<string, double> metrics) =>
        string.Join("  ", metrics.Select(kv => $"{kv.Key} {kv.Value.ToString("F4", CultureInfo.InvariantCulture)}"));

    /// <summary>
    /// history.jsonl, a line per epoch, rewritten whole after every epoch so that an interrupted run leaves the epochs it
    /// finished. The first epoch a run reports replaces the lines from it on: a resumed run keeps the epochs before its own.
    /// </summary>
    private sealed class HistoryFile(string path)
    {
        private List<string>? _lines;

        public void Add(EpochReport r)
        {
            _lines ??= File.Exists(path) ? [.. File.ReadLines(path).Where(line => (int)JsonNode.Parse(line)!["epoch"]! < r.Epoch)] : [];
            _lines.Add(new JsonObject
            {
                ["epoch"] = r.Epoch, ["loss"] = r.Loss, ["seconds"] = r.Seconds, ["rss_bytes"] = r.RssBytes,
                ["valid"] = r.Valid is null ? null : TrialCodec.Metrics(r.Valid),
            }.ToJsonString());
            AtomicFile.WriteAllText(path, string.Join("", _lines.Select(line => line + "\n")));
        }
    }

    /// <summary>Shows a bar per epoch and one line per finished epoch with its loss and validation metrics.</summary>
    private sealed class ProgressObserver(IAnsiConsole console, ProgressContext? context, string objective, List<EpochReport> history,
        HistoryFile? historyFile, string? stateDirectory) : ITrialObserver
    {
        private ProgressTask? _task;
        private int _taskEpoch;

        public void DataLoaded(DataSummary s) => console.MarkupLine(Markup.Escape(DataText(s)));

        public void Resumed(int epoch) =>
            console.MarkupLine($"resuming after epoch {epoch} from {Markup.Escape(Path.Join(stateDirectory, TrialCheckpoint.ResumeFile))}");

        public void BatchCompleted(int epoch, int batch, int batches)
        {
            if (context is null) return;
            if (_task is null || _taskEpoch != epoch)
            {
                _task?.StopTask();
                _task = context.AddTask($"epoch {epoch}", maxValue: batches);
                _taskEpoch = epoch;
            }
            _task.Value = batch;
        }

        public void EpochCompleted(EpochReport r)
        {
            history.Add(r);
            historyFile?.Add(r);
            _task?.StopTask();
            double perEpoch = history.Average(h => h.Seconds);
            var eta = TimeSpan.FromSeconds(perEpoch * (r.Epochs - r.Epoch));
            string valid = r.Valid is null ? "" : $"  valid {objective} {r.Valid[objective].ToString("F4", CultureInfo.InvariantCulture)}{(r.Improved ? " [green]*best[/]" : "")}";
            console.MarkupLine($"epoch {r.Epoch}/{r.Epochs}  loss {r.Loss.ToString("F4", CultureInfo.InvariantCulture)}{valid}  {r.Seconds:F1}s  ETA ≤ {eta:mm\\:ss}");
        }
    }
}
