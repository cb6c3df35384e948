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
        var output = new Option<DirectoryInfo?>("--out") { Description = "Folder for result.json, history.jsonl and the best checkpoint (best.pt)." };
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
        foreach (var option in new Option[] { output, json, threads, check }) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            return Errors.Guard(stderr, () => parse.GetValue(check)
                ? Check(parse.GetValue(file)!, parse.GetValue(json), stdout)
                : Run(parse.GetValue(file)!, parse.GetValue(output), parse.GetValue(json), parse.GetValue(threads), stdout, stderr));
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

    private static int Run(FileInfo file, DirectoryInfo? output, bool json, int threads, TextWriter stdout, TextWriter stderr)
    {
        var config = ExperimentLoader.LoadTrial(file.FullName);
        string? checkpoint = null;
        if (output is not null)
        {
            output.Create();
            checkpoint = Path.Combine(output.FullName, "best.pt");
        }
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };

        var console = Consoles.For(stderr);
        bool interactive = Consoles.IsTerminal(stderr);
        var history = new List<EpochReport>();
        TrialResult result = null!;
        console.MarkupLine($"[bold]{Markup.Escape(config.Name)}[/]: {config.Models[0].Name}, objective {config.Objective.Metric} ({(config.Objective.Maximize ? "max" : "min")})");
        void Train(ProgressContext? context) =>
            result = TrialRunner.Run(config, new TrialOptions(checkpoint, threads), new ProgressObserver(console, context, config.Objective.Metric, history), cancel.Token);
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
            File.WriteAllLines(Path.Combine(output.FullName, "history.jsonl"), history.Select(h => new JsonObject
            {
                ["epoch"] = h.Epoch, ["loss"] = h.Loss, ["seconds"] = h.Seconds, ["rss_bytes"] = h.RssBytes,
                ["valid"] = h.Valid is null ? null : TrialCodec.Metrics(h.Valid),
            }.ToJsonString()));
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

    /// <summary>Shows a bar per epoch and one line per finished epoch with its loss and validation metrics.</summary>
    private sealed class ProgressObserver(IAnsiConsole console, ProgressContext? context, string objective, List<EpochReport> history) : ITrialObserver
    {
        private ProgressTask? _task;
        private int _taskEpoch;

        public void DataLoaded(DataSummary s) => console.MarkupLine(Markup.Escape(DataText(s)));

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
            _task?.StopTask();
            double perEpoch = history.Average(h => h.Seconds);
            var eta = TimeSpan.FromSeconds(perEpoch * (r.Epochs - r.Epoch));
            string valid = r.Valid is null ? "" : $"  valid {objective} {r.Valid[objective].ToString("F4", CultureInfo.InvariantCulture)}{(r.Improved ? " [green]*best[/]" : "")}";
            console.MarkupLine($"epoch {r.Epoch}/{r.Epochs}  loss {r.Loss.ToString("F4", CultureInfo.InvariantCulture)}{valid}  {r.Seconds:F1}s  ETA ≤ {eta:mm\\:ss}");
        }
    }
}
