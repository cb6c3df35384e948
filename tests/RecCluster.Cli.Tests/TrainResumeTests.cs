using System.Text.Json.Nodes;

namespace RecCluster.Cli.Tests;

[Collection(InProcessTorch.Name)]
public sealed class TrainResumeTests : IDisposable
{
    private readonly TempFolder _temp = new();
    public void Dispose() => _temp.Dispose();

    private const string Config = """
        data: {synthetic: {users: 80, items: 30, clusters: 3, min_length: 5, max_length: 10, seed: 1}}
        evaluation: {cutoffs: [10], metrics: [hr, ndcg]}
        models:
          sasrec: {hidden_size: 16, inner_size: 16, n_epochs: 4, batch_size: 32, max_seq_length: 10, device: cpu, mask_rate: 0.1}
        """;

    /// <summary>
    /// Stands in for a process killed at the worst moment: it fails once it has been asked to print <c>trigger</c>, which the
    /// train command prints after writing that epoch to history.jsonl and before saving its resume checkpoint.
    /// </summary>
    private sealed class DyingWriter(string trigger) : StringWriter
    {
        private bool _died;

        public override void Write(char value) { base.Write(value); DieOnTrigger(); }
        public override void Write(string? value) { base.Write(value); DieOnTrigger(); }
        public override void Write(char[] buffer, int index, int count) { base.Write(buffer, index, count); DieOnTrigger(); }

        private void DieOnTrigger()
        {
            if (_died || !GetStringBuilder().ToString().Contains(trigger)) return;
            _died = true;
            throw new IOException("killed");
        }
    }

    private static (int Exit, string Out, string Err) Cli(TextWriter error, params string[] args)
    {
        using var output = new StringWriter();
        int exit = CliApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString()!);
    }

    private static JsonNode LastLine(string stdout) => JsonNode.Parse(stdout.TrimEnd().Split('\n')[^1])!;

    /// <summary>Each history line without its timings.</summary>
    private static string[] History(string folder) =>
        [.. File.ReadLines(Path.Combine(folder, "history.jsonl")).Select(line => JsonNode.Parse(line)!)
            .Select(h => $"{h["epoch"]} {h["loss"]} {h["valid"]?.ToJsonString()}")];

    [Fact]
    public void A_train_killed_mid_run_and_resumed_ends_with_the_metrics_and_history_of_an_undisturbed_one()
    {
        var config = _temp.Write("tiny.yaml", Config);
        string whole = _temp.Combine("whole"), parts = _temp.Combine("parts");
        var undisturbed = Cli(new StringWriter(), "train", config, "--json", "--out", whole, "--threads", "1");
        Assert.True(undisturbed.Exit == 0, undisturbed.Err);

        var killed = Cli(new DyingWriter("epoch 2/4"), "train", config, "--out", parts, "--threads", "1");
        Assert.Equal(1, killed.Exit);
        Assert.Contains("error: killed", killed.Err);
        Assert.Equal(2, History(parts).Length);   // epoch 2 is in the history, not yet in resume.ckpt

        var resumed = Cli(new StringWriter(), "train", config, "--json", "--out", parts, "--resume", "--threads", "1");
        Assert.True(resumed.Exit == 0, resumed.Err);
        Assert.Contains($"resuming after epoch 1 from {Path.Combine(parts, "resume.ckpt")}", resumed.Err);
        Assert.Equal(1, (int?)LastLine(resumed.Out)["resumed_from_epoch"]);
        foreach (var key in new[] { "status", "best_epoch", "epochs_run", "valid", "test" })
            Assert.Equal(LastLine(undisturbed.Out)[key]!.ToJsonString(), LastLine(resumed.Out)[key]!.ToJsonString());
        Assert.Equal(History(whole), History(parts));
    }

    [Fact]
    public void Resume_without_a_checkpoint_says_so_and_starts_fresh()
    {
        var config = _temp.Write("tiny.yaml", Config.Replace("n_epochs: 4", "n_epochs: 1"));
        var (exit, stdout, err) = Cli(new StringWriter(), "train", config, "--json", "--out", _temp.Combine("new"), "--resume");
        Assert.True(exit == 0, err);
        Assert.Contains($"no resume.ckpt in {_temp.Combine("new")} to resume from: starting fresh", err);
        Assert.Null(LastLine(stdout)["resumed_from_epoch"]);
    }

    [Fact]
    public void Resume_needs_an_output_folder()
    {
        var (exit, _, err) = Cli(new StringWriter(), "train", _temp.Write("tiny.yaml", Config), "--resume");
        Assert.Equal(2, exit);   // bad input
        Assert.Contains("--resume needs --out", err);
    }
}
