using RecCluster.Core.Config;

namespace RecCluster.Cli.Tests;

/// <summary><c>reccluster import</c> and the saved WarpRec and Shaped experiments, through the CLI run in-process.</summary>
public sealed class ImportCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();
    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Import_warprec_prints_our_yaml_on_stdout_and_the_warnings_on_stderr()
    {
        var file = Path.Combine(InProcess.Experiments(), "warprec-experiment.yml");
        var (exit, stdout, stderr) = InProcess.Cli("import", "warprec", file);
        Assert.Equal(0, exit);
        Assert.Contains($"{file}:26:1: warning: dashboard (W&B, MLflow, CodeCarbon) is not used", stderr);
        Assert.Contains($"{file}:28:1: warning: writer is not used", stderr);
        // Our YAML, with the data path made absolute: it loads from anywhere to the same sweep.
        var ours = ExperimentLoader.LoadSweep(_temp.Write("ours.yaml", stdout));
        var original = ExperimentLoader.LoadSweep(file);
        Assert.Equal(original.Experiment.Data, ours.Experiment.Data);
        Assert.Equal((original.Search, original.Scheduler), (ours.Search, ours.Scheduler));
        Assert.Equal(["sasrec", "pop"], ours.Models.Select(m => m.Name));
    }

    [Fact]
    public void Import_refuses_what_it_cannot_honour_with_positions_and_exit_2()
    {
        var file = _temp.Write("w.yml", """
            reader: {local_path: missing.tsv}
            splitter:
              test_splitting: {strategy: random_holdout, ratio: 0.1}
            models:
              SASRec: {learning_rate: [randn, 0.001, 0.0001]}
            """);
        var (exit, stdout, stderr) = InProcess.Cli("import", "warprec", file);
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Contains($"{file}:3:30: splitter.test_splitting.strategy 'random_holdout' is not supported", stderr);
        Assert.Contains($"{file}:5:28: WarpRec search space 'randn': normal distributions are not supported", stderr);
        Assert.Contains("problem(s) found; nothing was run.", stderr);
    }

    [Theory]
    [InlineData("import", "--help")]
    [InlineData("import", "warprec", "--help")]
    [InlineData("import", "shaped", "--help")]
    public void Import_has_help(params string[] args)
    {
        var (exit, stdout, _) = InProcess.Cli(args);
        Assert.Equal(0, exit);
        Assert.Contains("Description:", stdout);
    }

    [Theory]
    [InlineData("warprec-models.yaml", "caser, gru4rec, sasrec; grid search, 3 trial(s)")]
    [InlineData("warprec-experiment.yml", "sasrec, pop; tpe search, 2 trial(s); asha scheduler; objective ndcg@10")]
    [InlineData("shaped-policy.yaml", "sasrec, bert4rec; grid search, 2 trial(s)")]
    public void The_saved_WarpRec_and_Shaped_experiments_validate_with_their_data(string name, string summary)
    {
        var (exit, stdout, stderr) = InProcess.Cli("validate", Path.Combine(InProcess.Experiments(), name));
        Assert.True(exit == 0, stderr);
        Assert.Contains($"{name}: valid sweep for 'reccluster sweep' ({summary}", stdout);
    }
}
