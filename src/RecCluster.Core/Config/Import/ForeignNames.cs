using RecCluster.Core.Evaluation;
using RecCluster.Core.Sweeps;

namespace RecCluster.Core.Config.Import;

/// <summary>
/// The one place other tools' names map to ours (WarpRec's and Shaped's): models, hyperparameters, metrics, search spaces,
/// search strategies and schedulers. docs/config-import.md shows the same table to users.
/// </summary>
public static class ForeignNames
{
    /// <summary>WarpRec's model class names (as written under its <c>models:</c>, in any case, as WarpRec reads them) → ours.</summary>
    public static readonly IReadOnlyDictionary<string, string> WarpRecModels =
        new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["SASRec"] = ModelCatalog.SasRec, ["gSASRec"] = ModelCatalog.GSasRec, ["GRU4Rec"] = ModelCatalog.Gru4Rec,
        ["Caser"] = ModelCatalog.Caser, ["BERT4Rec"] = ModelCatalog.Bert4Rec, ["Pop"] = ModelCatalog.Popularity,
    };

    /// <summary>Shaped's <c>policy_type</c> values we train → our model names.</summary>
    public static readonly IReadOnlyDictionary<string, string> ShapedPolicies = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sasrec"] = ModelCatalog.SasRec, ["bert4rec"] = ModelCatalog.Bert4Rec,
    };

    // Per model, because one name means different things: GRU4Rec's hidden_size is its GRU state, SASRec's its only width
    // (WarpRec's embedding_size), BERT4Rec's (Shaped, RecBole) its embedding_size.
    private static readonly Dictionary<string, string> SasRecAliases = new(StringComparer.Ordinal)
    {
        ["epochs"] = "n_epochs", ["embedding_size"] = "hidden_size", ["dropout_prob"] = "hidden_dropout_prob",
        ["neg_samples"] = "negative_samples_count", ["max_seq_len"] = "max_seq_length",
    };

    private static readonly Dictionary<string, string> LoopAliases = new(StringComparer.Ordinal)
    {
        ["epochs"] = "n_epochs", ["max_seq_len"] = "max_seq_length",
    };

    private static readonly Dictionary<string, string> Bert4RecAliases = new(StringComparer.Ordinal)
    {
        ["epochs"] = "n_epochs", ["max_seq_len"] = "max_seq_length", ["hidden_size"] = "embedding_size",
        ["hidden_dropout_prob"] = "dropout_prob",
    };

    private static readonly Dictionary<string, IReadOnlyDictionary<string, string>> Hyperparameters = new(StringComparer.Ordinal)
    {
        [ModelCatalog.SasRec] = SasRecAliases, [ModelCatalog.GSasRec] = SasRecAliases, [ModelCatalog.Gru4Rec] = LoopAliases,
        [ModelCatalog.Caser] = LoopAliases, [ModelCatalog.Bert4Rec] = Bert4RecAliases,
        [ModelCatalog.Popularity] = new Dictionary<string, string>(),
    };

    /// <summary>Other names a model's hyperparameters may be written under (alias → our name).</summary>
    public static IReadOnlyDictionary<string, string> HyperparameterAliases(string model) => Hyperparameters[model];

    /// <summary>WarpRec's metric names (its registry is case-insensitive) → ours.</summary>
    public static readonly IReadOnlyDictionary<string, MetricKind> Metrics =
        new Dictionary<string, MetricKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["nDCG"] = MetricKind.Ndcg, ["Precision"] = MetricKind.Precision, ["Recall"] = MetricKind.Recall, ["HitRate"] = MetricKind.Hr,
        ["MRR"] = MetricKind.Mrr,
    };

    /// <summary>
    /// WarpRec's inline search spaces (<c>[kind, lo, hi, q?, log_base?]</c>) → ours; a null target is refused with the reason.
    /// Ray's qrandint (multiples of q, bounds divisible by q as WarpRec checks) is our quniform on an integer parameter; a log
    /// base does not change a log-uniform distribution, so it is accepted and dropped.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (string? Ours, string Why)> SearchSpaces =
        new Dictionary<string, (string?, string)>(StringComparer.OrdinalIgnoreCase)
        {
            ["grid"] = ("grid", ""), ["choice"] = ("choice", ""), ["uniform"] = ("uniform", ""), ["quniform"] = ("quniform", ""),
            ["loguniform"] = ("loguniform", ""), ["randint"] = ("randint", ""), ["qrandint"] = ("quniform", ""),
            ["qloguniform"] = (null, "a quantised log-uniform space is not supported; use [loguniform, lo, hi] or [quniform, lo, hi, q]"),
            ["lograndint"] = (null,
                "a log-uniform integer space is not supported; use [loguniform, lo, hi] (rounded for whole-number parameters)"),
            ["qlograndint"] = (null,
                "a quantised log-uniform integer space is not supported; use [loguniform, lo, hi] or [qrandint, lo, hi, q]"),
            ["randn"] = (null, "normal distributions are not supported; use [uniform, lo, hi]"),
            ["qrandn"] = (null, "normal distributions are not supported; use [quniform, lo, hi, q]"),
        };

    /// <summary>WarpRec's optimization.strategy → our search; HyperOpt and Optuna both default to TPE.</summary>
    public static readonly IReadOnlyDictionary<string, (SearchAlgorithm? Ours, string Why)> Strategies =
        new Dictionary<string, (SearchAlgorithm?, string)>(StringComparer.OrdinalIgnoreCase)
        {
            ["grid"] = (SearchAlgorithm.Grid, ""), ["random"] = (SearchAlgorithm.Random, ""),
            ["hopt"] = (SearchAlgorithm.Tpe, "runs our TPE search (the algorithm HyperOpt uses)"),
            ["optuna"] = (SearchAlgorithm.Tpe, "runs our TPE search (Optuna's default sampler)"),
            ["bohb"] = (null, "BOHB (Bayesian optimisation with HyperBand) is not supported; use hopt or optuna (TPE) with scheduler asha"),
        };

    /// <summary>WarpRec's optimization.scheduler → ours.</summary>
    public static readonly IReadOnlyDictionary<string, SchedulerKind> Schedulers =
        new Dictionary<string, SchedulerKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["fifo"] = SchedulerKind.Fifo, ["asha"] = SchedulerKind.Asha,
    };
}
