using System.Text.Json.Nodes;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cli.Tests;

/// <summary>Input problems and dry runs, through the CLI run in-process.</summary>
[Collection(InProcessTorch.Name)]
public sealed class InputErrorTests : IDisposable
{
    private const string Synthetic = "data: {synthetic: {users: 40, items: 30, clusters: 3, min_length: 5, max_length: 8, seed: 1}}\n";
    private readonly TempFolder _temp = new();
    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("train", "--thredas", "2")]                          // a misspelt flag
    [InlineData("leaderboard", "--state", "x", "--top", "many")]       // a value of the wrong type
    [InlineData("sweep", "x.yaml", "--gpus", "two")]
    [InlineData("dataset", "synth", "--out", "x.inter", "--users", "0")]   // a value out of range
    [InlineData("dataset", "synth", "--out", "x.inter", "--min-length", "2")]   // a value the command refuses
    [InlineData("dashboard", "--port", "70000")]
    [InlineData("dashboard", "--state", "/no/such/reccluster-state")]   // nothing to show
    [InlineData("sweep", "x.yaml", "--port", "5081")]                  // --port without --dashboard
    [InlineData("sweep", "x.yaml", "--check", "--dashboard")]
    public void Bad_flags_are_bad_input(params string[] args)
    {
        var (exit, _, stderr) = InProcess.Cli(args);
        Assert.Equal(2, exit);
        Assert.StartsWith("error: ", stderr);
    }

    [Fact]
    public void A_one_trial_file_with_sweep_sections_is_a_sweep_which_sweep_accepts_and_train_refuses()
    {
        var config = _temp.Write("one.yaml", Synthetic + "models: {pop: {}}\nresources: {cpus_per_trial: 1}\n");
        var (exit, stdout, _) = InProcess.Cli("validate", config);
        Assert.Equal(0, exit);
        Assert.Contains("one.yaml: valid sweep for 'reccluster sweep' (pop; grid search, 1 trial(s)", stdout);
        Assert.Contains($"  not a train config: {config}:3:1: 'resources' applies to sweeps", stdout);
        var state = _temp.Combine("state");
        var check = InProcess.Cli("sweep", config, "--check", "--state", state);
        Assert.True(check.Exit == 0, check.Err);
        Assert.Contains("one.yaml: ready to sweep 1 trial(s) (grid search); pop (0 parameters in its first trial) on cpu", check.Out);
        Assert.False(Directory.Exists(state));
        Assert.Equal(2, InProcess.Cli("train", config, "--check").Exit);
    }

    [Fact]
    public void Train_check_loads_the_data_and_builds_the_model_without_training()
    {
        var config = _temp.Write("t.yaml",
            Synthetic + "models:\n  sasrec: {hidden_size: 8, inner_size: 8, n_layers: 1, max_seq_length: 8, device: cpu}\n");
        var outDir = _temp.Combine("out");
        var (exit, stdout, stderr) = InProcess.Cli("train", config, "--check", "--json", "--out", outDir);
        Assert.True(exit == 0, stderr);
        var result = JsonNode.Parse(stdout)!;
        Assert.Equal("ok", (string?)result["check"]);
        Assert.Equal(40, (int)result["data"]!["users"]!);
        // Item (31 x 8) and position (8 x 8) embeddings alone; the transformer block adds more.
        Assert.True((long)result["parameters"]! > 31 * 8 + 8 * 8);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void Sweep_check_expands_the_search_space()
    {
        var config = _temp.Write("s.yaml", Synthetic + """
            models:
              sasrec: {hidden_size: [8, 16], learning_rate: {loguniform: [0.001, 0.1]}, inner_size: 8, max_seq_length: 8, device: cpu}
            search: {algorithm: grid, num_trials: 3}
            """);
        var (exit, stdout, stderr) = InProcess.Cli("sweep", config, "--check");
        Assert.True(exit == 0, stderr);
        Assert.Contains("s.yaml: ready to sweep 6 trial(s) (grid search); sasrec (", stdout);
    }

    [Fact]
    public void Data_without_a_training_transition_is_an_input_error_naming_the_file()
    {
        var data = _temp.Write("three.inter", "user_id:token\titem_id:token\nu1\ta\nu1\tb\nu1\tc\nu2\ta\nu2\tb\nu2\tc\n");
        var config = _temp.Write("c.yaml", "data:\n  path: three.inter\nmodels: {pop: {}}\n");
        const string problem = "no user has at least 4 interactions after filtering; leave-one-out needs 4 per user";
        var (exit, _, stderr) = InProcess.Cli("validate", config);
        Assert.Equal(2, exit);
        Assert.Contains($"{config}:2:3: the data cannot be used: {data}: {problem}", stderr);
        var train = InProcess.Cli("train", config);
        Assert.Equal(2, train.Exit);
        Assert.Contains($"\nerror: {data}: {problem}", train.Err);
    }

    [Fact]
    public void A_binary_data_file_is_reported_with_its_text_quoted_and_shortened()
    {
        var data = _temp.Combine("garbage.csv");
        // Invalid UTF-8 (0xff) between control characters, on one long line.
        File.WriteAllBytes(data, [.. Enumerable.Range(0, 300).Select(i => (byte)(i % 2 == 0 ? 0xff : 1 + i % 8)), (byte)'\n']);
        var config = _temp.Write("c.yaml", "data: {path: garbage.csv}\nmodels: {pop: {}}\n");
        foreach (var args in new[] { new[] { "validate", config }, ["train", config, "--check"] })
        {
            var (exit, _, stderr) = InProcess.Cli(args);
            Assert.Equal(2, exit);
            Assert.Contains($"{data}:1: the header has no 'user_id' column (columns: '\\ufffd\\x02\\ufffd\\x04", stderr);
            Assert.Contains("'…", stderr);
            Assert.DoesNotContain(stderr, c => char.IsControl(c) && c != '\n');
        }
    }

    [Fact]
    public void Leaderboard_json_writes_missing_numbers_as_null()
    {
        var state = _temp.Combine("state");
        using (var store = new LeaderboardStore(state))
        {
            store.EnsureSweep("s1", "tiny", new SweepSource("tiny.yaml", ""), new Objective("ndcg@10", true), []);
            store.RecordTrial("s1", 0, "sasrec", new Dictionary<string, ParamValue> { ["hidden_size"] = 8L }, TrialStatus.Running, 1, null);
            store.RecordEpoch("s1", 0, 1, new TrialEpoch(1, 0.9, null));   // eval_step 2: no validation at epoch 1
            store.RecordEpoch("s1", 0, 1, new TrialEpoch(2, 0.7, new Dictionary<string, double> { ["ndcg@10"] = 0.25 }));
        }
        var (exit, stdout, stderr) = InProcess.Cli("leaderboard", "--state", state, "--trial", "0", "--format", "json");
        Assert.True(exit == 0, stderr);
        var rows = JsonNode.Parse(stdout)!.AsArray();
        Assert.Null(rows[0]!["ndcg@10"]);
        Assert.True(rows[0]!.AsObject().ContainsKey("ndcg@10"));
        Assert.Equal(0.25, (double)rows[1]!["ndcg@10"]!);
        Assert.Equal((1, 2), ((int)rows[0]!["epoch"]!, (int)rows[1]!["epoch"]!));
        var csv = InProcess.Cli("leaderboard", "--state", state, "--trial", "0", "--format", "csv").Out.Split('\n');
        Assert.Equal(["attempt,epoch,loss,ndcg@10,node", "1,1,0.900000,,", "1,2,0.700000,0.250000,"], csv[..3]);   // no node: recorded by hand
    }
}
