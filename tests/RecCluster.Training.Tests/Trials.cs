using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;

namespace RecCluster.Training.Tests;

/// <summary>Small experiment configs built in code for fast tests.</summary>
public static class Trials
{
    public static readonly SyntheticConfig Tiny = new(Users: 120, Items: 40, Clusters: 4, MinLength: 5, MaxLength: 12, MarkovWeight: 0.6, Seed: 11);

    public static TrialParameters Params(string model, params (string Name, object Value)[] written)
    {
        var specs = ModelCatalog.ParamsOf(model).ToDictionary(s => s.Name);
        var values = new Dictionary<string, ParamValue>();
        foreach (var (name, value) in written)
        {
            var problem = specs[name].TryNormalize(value, out var normalized);
            Assert.Null(problem);
            values[name] = normalized;
        }
        return TrialParameters.Resolve(model, values);
    }

    public static ExperimentConfig Config(TrialParameters p, string model = ModelCatalog.SasRec, SyntheticConfig? synthetic = null,
        EvalProtocol protocol = EvalProtocol.Full, DataConfig? data = null) => new(
        "test", "test.yaml",
        data ?? new DataConfig(null, DataFormat.Auto, synthetic ?? Tiny, null, "class", null, 0, 0, DataSplit.LeaveOneOut),
        new EvaluationConfig(protocol, 20, [5, 10], [MetricKind.Hr, MetricKind.Ndcg]),
        new Objective("ndcg@10", true),
        [new ModelConfig(model, p)]);

    /// <summary>A short SASRec run: small model, few epochs.</summary>
    public static (string, object)[] Quick(int epochs = 3) =>
        [("hidden_size", 16L), ("inner_size", 32L), ("n_epochs", (long)epochs), ("batch_size", 32L), ("max_seq_length", 12L), ("early_stopping_step", 0L), ("device", "cpu")];

    /// <summary>A short run of any trainable model: small widths, few epochs, no early stopping.</summary>
    public static (string, object)[] Quick(string model, int epochs = 3)
    {
        (string, object)[] loop = [("n_epochs", (long)epochs), ("batch_size", 32L), ("max_seq_length", 12L), ("early_stopping_step", 0L), ("device", "cpu")];
        return model switch
        {
            ModelCatalog.SasRec => Quick(epochs),
            ModelCatalog.GSasRec => [.. Quick(epochs), ("negative_samples_count", 16L)],
            ModelCatalog.Gru4Rec => [.. loop, ("embedding_size", 16L), ("hidden_size", 16L)],
            ModelCatalog.Caser => [.. loop, ("embedding_size", 16L), ("n_h", 4L), ("n_v", 2L), ("window_length", 3L)],
            ModelCatalog.Bert4Rec => [.. loop, ("embedding_size", 16L), ("inner_size", 32L)],
            _ => throw new ArgumentException(model),
        };
    }

    /// <summary>Records the epochs a trial reports.</summary>
    public sealed class Recorder : ITrialObserver
    {
        public List<EpochReport> Epochs { get; } = [];
        public void EpochCompleted(EpochReport report) => Epochs.Add(report);
    }

    /// <summary>Runs a trial on 2 threads, recording its epochs.</summary>
    public static (TrialResult Result, Recorder Log) Run(ExperimentConfig config)
    {
        var log = new Recorder();
        return (TrialRunner.Run(config, new TrialOptions(Threads: 2), log), log);
    }

    /// <summary>An epoch-by-epoch loss and test-metric signature: two runs trained alike have the same one.</summary>
    public static string Fingerprint((TrialResult Result, Recorder Log) run) =>
        string.Join(";", run.Log.Epochs.Select(e => e.Loss.ToString("R"))) + "|" + string.Join(";", run.Result.Test.Select(kv => kv.Value.ToString("R")));
}
