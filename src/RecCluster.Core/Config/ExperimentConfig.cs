using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;

namespace RecCluster.Core.Config;

/// <summary>Where the interactions come from (a file or the built-in synthetic generator) and how each user's are split.</summary>
public sealed record DataConfig(
    string? Path,
    DataFormat Format,
    SyntheticConfig? Synthetic,
    string? ItemFeaturesPath,
    string ItemFeatureField,
    string? ItemEmbeddingsPath,
    int MinUserInteractions,
    int MinItemInteractions,
    DataSplit Split);

public enum EvalProtocol { Full, Sampled }

/// <summary>How trials are evaluated: on the validation and test targets of the data's split.</summary>
public sealed record EvaluationConfig(
    EvalProtocol Protocol,
    int SampledNegatives,
    IReadOnlyList<int> Cutoffs,
    IReadOnlyList<MetricKind> Metrics)
{
    public IEnumerable<string> MetricNames =>
        from m in Metrics from k in Cutoffs select MetricName.Format(m, k);
}

/// <summary>The validation metric trials are ranked and early-stopped by.</summary>
public sealed record Objective(string Metric, bool Maximize)
{
    public bool IsBetter(double candidate, double incumbent) => Maximize ? candidate > incumbent : candidate < incumbent;
}

/// <summary>One model with every hyperparameter resolved (written values plus defaults): one trial.</summary>
public sealed record ModelConfig(string Name, TrialParameters Parameters);

/// <summary>
/// A parsed experiment file. A train config is an experiment whose hyperparameters are all fixed values
/// and which names exactly one model.
/// </summary>
public sealed record ExperimentConfig(
    string Name,
    string SourceFile,
    DataConfig Data,
    EvaluationConfig Evaluation,
    Objective Objective,
    IReadOnlyList<ModelConfig> Models);
