using System.Diagnostics;
using System.Text.Json.Nodes;

namespace RecCluster.Cli.Tests;

public sealed class CliTests : IDisposable
{
    private readonly TempFolder _temp = new();
    public void Dispose() => _temp.Dispose();

    private static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "reccluster.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"reccluster {string.Join(' ', args)} did not finish within 5 minutes");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void Validate_reports_every_problem_with_its_position_and_exits_2()
    {
        var path = _temp.Write("bad.yaml", "data:\n  synthetic: {users: 50}\nmodels:\n  sasrec:\n    hiden_size: 32\n    n_layers: two\n");
        var (exit, _, err) = Cli("validate", path);
        Assert.Equal(2, exit);
        Assert.Contains($"{path}:5:5: unknown key 'hiden_size' in models.sasrec; did you mean 'hidden_size'?", err);
        Assert.Contains($"{path}:6:15: 'n_layers' must be a whole number, got 'two'", err);
        Assert.DoesNotContain("   at ", err);   // no stack trace
    }

    [Fact]
    public void Train_prints_one_json_object_last_and_writes_results()
    {
        var config = _temp.Write("tiny.yaml", """
            data: {synthetic: {users: 80, items: 30, clusters: 3, min_length: 5, max_length: 10, seed: 1}}
            evaluation: {cutoffs: [10], metrics: [hr, ndcg]}
            models:
              sasrec: {hidden_size: 16, inner_size: 16, n_epochs: 2, batch_size: 32, max_seq_length: 10, device: cpu}
            """);
        var outDir = _temp.Combine("out");
        var (exit, stdout, err) = Cli("train", config, "--json", "--out", outDir, "--threads", "1");
        Assert.True(exit == 0, err);
        var json = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal("completed", (string?)json["status"]);
        Assert.Equal("cpu", (string?)json["device"]);
        Assert.Equal(2, (int?)json["epochs_run"]);
        Assert.InRange((double)json["test"]!["ndcg@10"]!, 0, 1);
        Assert.NotNull(json["oracle"]!["ndcg@10"]);
        Assert.True(File.Exists(Path.Combine(outDir, "best.pt")));
        Assert.Equal(2, File.ReadAllLines(Path.Combine(outDir, "history.jsonl")).Length);
        Assert.Equal((double)json["test"]!["hr@10"]!, (double)JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "result.json")))!["test"]!["hr@10"]!);
    }

    [Fact]
    public void Two_processes_with_the_same_seed_report_identical_metrics()
    {
        var config = _temp.Write("sampled.yaml", """
            data: {synthetic: {users: 60, items: 200, clusters: 3, min_length: 5, max_length: 10, seed: 2}}
            evaluation: {protocol: sampled, sampled_negatives: 50, cutoffs: [10], metrics: [hr, ndcg]}
            models:
              sasrec: {hidden_size: 8, inner_size: 8, n_epochs: 2, batch_size: 16, max_seq_length: 10, device: cpu, sample_seed: 5}
            """);
        string Test() => JsonNode.Parse(Cli("train", config, "--json", "--threads", "1").Out.TrimEnd().Split('\n')[^1])!["test"]!.ToJsonString();
        Assert.Equal(Test(), Test());
    }

    [Fact]
    public void Sweep_summary_matches_the_leaderboard_sorted_by_the_objective()
    {
        var config = _temp.Write("sweep.yaml", """
            name: tiny
            data: {synthetic: {users: 80, items: 30, clusters: 3, min_length: 5, max_length: 10, seed: 1}}
            evaluation: {cutoffs: [10], metrics: [hr, ndcg]}
            objective: {metric: ndcg@10, mode: max}
            models:
              sasrec: {hidden_size: [8, 16], learning_rate: [0.001, 0.01], inner_size: 16, n_epochs: 3, batch_size: 32, max_seq_length: 10, device: cpu}
            resources: {cpus_per_trial: 1}
            """);
        var state = _temp.Combine("state");
        var (exit, stdout, err) = Cli("sweep", config, "--state", state, "--json");
        Assert.True(exit == 0, err);
        var summary = JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;
        Assert.Equal((4, 4, 0), ((int)summary["trials"]!, (int)summary["completed"]!, (int)summary["failed"]!));
        Assert.Equal(12, (int)summary["total_epochs"]!);

        var (_, board, _) = Cli("leaderboard", "--state", state, "--format", "json", "--top", "10");
        var rows = JsonNode.Parse(board)!.AsArray();
        Assert.Equal(4, rows.Count);
        var objective = rows.Select(r => (double)r!["valid:ndcg@10"]!).ToList();
        Assert.Equal(objective.OrderDescending(), objective);
        Assert.Equal((int)summary["best"]!["trial"]!, (int)rows[0]!["trial"]!);
        Assert.Equal((double)summary["best"]!["test"]!["ndcg@10"]!, (double)rows[0]!["test:ndcg@10"]!, 6);

        var (again, rerun, _) = Cli("sweep", config, "--state", state, "--json");   // resume: nothing left to run
        Assert.Equal(0, again);
        Assert.Equal(12, (int)JsonNode.Parse(rerun.TrimEnd().Split('\n')[^1])!["total_epochs"]!);
    }

    [Fact]
    public void Sweep_writes_the_leaderboard_to_stdout_and_progress_to_stderr()
    {
        var config = _temp.Write("streams.yaml", """
            data: {synthetic: {users: 40, items: 30, clusters: 3, min_length: 5, max_length: 8, seed: 1}}
            evaluation: {cutoffs: [10], metrics: [hr, ndcg]}
            models:
              sasrec: {hidden_size: [8, 16], inner_size: 8, n_epochs: 1, batch_size: 16, max_seq_length: 8, device: cpu}
            resources: {cpus_per_trial: 1}
            """);
        var (exit, stdout, stderr) = Cli("sweep", config, "--state", _temp.Combine("state"), "--json");
        Assert.True(exit == 0, stderr);
        Assert.Contains("leaderboard by ndcg@10", stdout);
        Assert.Contains("2 trials: 2 completed, 0 pruned, 0 failed", stdout);
        Assert.Equal(2, (int)JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!["completed"]!);
        Assert.DoesNotContain("started", stdout);
        Assert.Contains("trial 0 (attempt 1) started", stderr);
        Assert.Contains("trial 1 completed", stderr);
        Assert.DoesNotContain("leaderboard", stderr);
    }

    [Fact]
    public void An_invalid_sweep_is_explained_and_writes_no_state()
    {
        var config = _temp.Write("bad-sweep.yaml", "data: {synthetic: {}}\nmodels: {sasrec: {learning_rate: {loguniform: [0, 1]}}}\nscheduler: {asha: {grace: 2}}\n");
        var state = _temp.Combine("never");
        var (exit, _, err) = Cli("sweep", config, "--state", state);
        Assert.Equal(2, exit);
        Assert.Contains($"{config}:2:47: 'learning_rate': loguniform needs lo > 0", err);
        Assert.Contains($"{config}:3:20: unknown key 'grace' in scheduler.asha; did you mean 'grace_period'?", err);
        Assert.False(Directory.Exists(state));
        var (missing, _, message) = Cli("leaderboard", "--state", state);
        Assert.Equal(1, missing);
        Assert.Contains("no leaderboard in", message);
    }

    [Fact]
    public void Bad_data_names_file_and_line_without_a_stack_trace()
    {
        var data = _temp.Write("d.inter", "user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\tlater\n");
        var config = _temp.Write("c.yaml", "data: {path: d.inter}\nmodels: {pop: {}}\n");
        var (exit, _, err) = Cli("train", config);
        Assert.Equal(2, exit);
        Assert.Contains($"{data}:3: timestamp 'later' is not a number", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void Synth_writes_a_readable_dataset_and_its_oracle()
    {
        var path = _temp.Combine("s.inter");
        var (exit, stdout, err) = Cli("dataset", "synth", "--out", path, "--users", "50", "--items", "40", "--max-length", "12", "--min-length", "5");
        Assert.True(exit == 0, err);
        Assert.Contains("oracle", stdout);
        Assert.Equal(51, File.ReadAllLines(path).Select(l => l.Split('\t')[0]).Distinct().Count());   // header + 50 users
        Assert.NotNull(JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(path, ".oracle.json")))!["test"]!["ndcg@10"]);
        var config = _temp.Write("c.yaml", "data: {path: s.inter}\nmodels: {pop: {}}\n");
        Assert.Equal(0, Cli("validate", config).Exit);
    }

    [Theory]
    [InlineData("train", "--help")]
    [InlineData("validate", "--help")]
    [InlineData("dataset", "synth", "--help")]
    [InlineData("sweep", "--help")]
    [InlineData("leaderboard", "--help")]
    [InlineData("trial", "--help")]
    public void Every_command_has_help(params string[] args)
    {
        var (exit, stdout, _) = Cli(args);
        Assert.Equal(0, exit);
        Assert.Contains("Usage:", stdout);
        Assert.Contains("Description:", stdout);
    }
}
