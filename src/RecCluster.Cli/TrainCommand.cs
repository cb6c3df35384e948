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
        threads.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 0) r.AddError("--threads must be 0 or more"); });
        var command = new Command("train", "Train and evaluate one trial, showing progress; writes results and the best checkpoint under --out.");
        command.Arguments.Add(file);
        command.Options.Add(output);
        command.Options.Add(json);
        command.Options.Add(threads);
        command.SetAction(parse => Errors.Guard(() =>
            Run(parse.GetValue(file)!, parse.GetValue(output), parse.GetValue(json), parse.GetValue(threads))));
        return command;
    }

    private static int Run(FileInfo file, DirectoryInfo? output, bool json, int threads)
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

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        bool interactive = !Console.IsErrorRedirected;
        if (!interactive) console.Profile.Width = 400; // logs: one line per epoch, no wrapping
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
        if (json) Console.WriteLine(resultJson.ToJsonString());
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
        ["data"] = new JsonObject
        {
            ["source"] = result.Data.Source, ["format"] = result.Data.Format, ["users"] = result.Data.Users,
            ["items"] = result.Data.Items, ["interactions"] = result.Data.Interactions,
            ["skipped_users"] = result.Data.SkippedUsers, ["training_users"] = result.Data.TrainingUsers,
        },
    };

    private static string Format(IReadOnlyDictionary<string, double> metrics) =>
        string.Join("  ", metrics.Select(kv => $"{kv.Key} {kv.Value.ToString("F4", CultureInfo.InvariantCulture)}"));

    /// <summary>Shows a bar per epoch and one line per finished epoch with its loss and validation metrics.</summary>
    private sealed class ProgressObserver(IAnsiConsole console, ProgressContext? context, string objective, List<EpochReport> history) : ITrialObserver
    {
        private ProgressTask? _task;
        private int _taskEpoch;

        public void DataLoaded(DataSummary s) => console.MarkupLine(
            $"data: {Markup.Escape(s.Source)} ({s.Format}): {s.Users} users, {s.Items} items, {s.Interactions} interactions" +
            (s.SkippedUsers > 0 ? $", {s.SkippedUsers} users with < 3 interactions skipped" : "") + $"; {s.TrainingUsers} training users");

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
