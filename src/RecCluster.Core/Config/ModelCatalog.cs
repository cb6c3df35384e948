using RecCluster.Core.Config.Import;

namespace RecCluster.Core.Config;

/// <summary>
/// The models RecCluster trains and the hyperparameters each accepts. A hyperparameter that is not
/// listed for a model is rejected, so none is ever silently ignored.
/// </summary>
public static class ModelCatalog
{
    public const string SasRec = "sasrec";
    public const string GSasRec = "gsasrec";
    public const string Gru4Rec = "gru4rec";
    public const string Caser = "caser";
    public const string Bert4Rec = "bert4rec";
    public const string Popularity = "pop";

    private static readonly ParamSpec[] TrialParams =
    [
        new("sample_seed", ParamKind.Int, 42L, "Seeds user sampling, initialisation, negatives, dropout and shuffling.", 0, int.MaxValue),
        new("sample_ratio", ParamKind.Float, 1.0, "Fraction of training users used (validation and test always cover every user).", 0, 1, MinExclusive: true),
        new("eval_batch_size", ParamKind.Int, 256L, "Users per evaluation batch.", 1, 1 << 20),
        new("device", ParamKind.Choice, "auto", "auto (CUDA when present, else CPU), cpu or cuda.", Choices: ["auto", "cpu", "cuda"]),
    ];

    private static readonly ParamSpec[] LoopParams =
    [
        new("n_epochs", ParamKind.Int, 50L, "Maximum training epochs.", 1, 100_000),
        new("batch_size", ParamKind.Int, 128L, "Training sequences per step.", 1, 1 << 20),
        new("learning_rate", ParamKind.Float, 0.001, "Adam learning rate.", 0, 1, MinExclusive: true),
        new("optimizer", ParamKind.Choice, "adam", "adam (weight_decay added to the gradient as L2, like torch.optim.Adam) or adamw (decoupled).",
            Choices: ["adam", "adamw"]),
        new("weight_decay", ParamKind.Float, 0.0, "Weight decay (L2 for adam, decoupled for adamw).", 0, 10),
        new("adam_beta1", ParamKind.Float, 0.9, "Adam's first-moment decay.", 0, 1, MaxExclusive: true),
        new("adam_beta2", ParamKind.Float, 0.98, "Adam's second-moment decay (0.98 as in the SASRec reference).", 0, 1, MaxExclusive: true),
        new("length_bucket_window", ParamKind.Int, 4L,
            "1: every batch is a random set of users; N > 1: users are sorted by length within windows of N batches (less padding).",
            1, 1 << 20),
        new("micro_batch_size", ParamKind.Int, 32L,
            "Users per forward/backward pass: a batch's users are sorted by length and cut into passes of this many, each padded " +
            "only to its own longest history; their gradients add up to the batch's before its one optimizer step (0: one pass).",
            0, 1 << 20),
        new("eval_step", ParamKind.Int, 1L, "Evaluate on validation every N epochs.", 1, 100_000),
        new("early_stopping_step", ParamKind.Int, 10L, "Stop after N evaluations without improvement of the objective (0: never).", 0, 100_000),
    ];

    private static readonly ParamSpec[] SasRecParams =
    [
        new("hidden_size", ParamKind.Int, 64L, "Embedding and transformer width.", 1, 8192),
        new("inner_size", ParamKind.Int, 256L, "Feed-forward inner width.", 1, 65536),
        new("n_layers", ParamKind.Int, 2L, "Transformer blocks.", 1, 64),
        new("n_heads", ParamKind.Int, 2L, "Attention heads (must divide hidden_size).", 1, 256),
        new("hidden_dropout_prob", ParamKind.Float, 0.2, "Dropout on embeddings and block outputs.", 0, 1, MaxExclusive: true),
        new("attn_dropout_prob", ParamKind.Float, 0.2, "Dropout on attention weights.", 0, 1, MaxExclusive: true),
        new("hidden_act", ParamKind.Choice, "gelu", "Feed-forward activation.", Choices: ["gelu", "relu", "swish", "tanh", "sigmoid"]),
        new("layer_norm_eps", ParamKind.Float, 1e-8, "LayerNorm epsilon.", 0, 1, MinExclusive: true, MaxExclusive: true),
        new("initializer", ParamKind.Choice, "xavier_normal", "Weight initialisation: xavier_normal (the SASRec reference) or normal (RecBole).",
            Choices: ["xavier_normal", "normal"]),
        new("initializer_range", ParamKind.Float, 0.02, "Std of the normal initialisation (initializer: normal only).", 0, 10, MinExclusive: true),
        new("max_seq_length", ParamKind.Int, 50L, "Most recent items fed to the model.", 1, 8192),
        new("loss_type", ParamKind.Choice, "CE", "CE (softmax over all items, or sampled softmax when negative_samples_count > 0), BPR or BCE (sampled negatives).", Choices: ["CE", "BPR", "BCE"]),
        new("negative_samples_count", ParamKind.Int, null, "Negatives per positive; default 0 for CE (full softmax), 1 for BPR/BCE.", 0, 100_000),
        new("sample_strategy", ParamKind.Choice, "uniform", "How training negatives are drawn: uniform over items or proportional to popularity.", Choices: ["uniform", "popularity"]),
        new("mask_rate", ParamKind.Float, 0.0, "Share of input positions replaced by padding during training (item dropout augmentation).", 0, 1, MaxExclusive: true),
        new("append_item_features", ParamKind.Bool, false, "Add the mean embedding of each item's side features (data.item_features) to its embedding.", null),
        new("append_item_embeddings", ParamKind.Bool, false, "Add a learned projection of pretrained item vectors (data.item_embeddings) to each item's embedding.", null),
        new("use_candidate_embeddings", ParamKind.Bool, false, "Score against a separate output embedding table instead of the tied input one.", null),
    ];

    /// <summary>
    /// gSASRec (Petrov &amp; Macdonald 2023): SASRec's network, trained with gBCE over many sampled negatives (no loss_type).
    /// </summary>
    private static readonly ParamSpec[] GSasRecParams =
    [
        .. SasRecParams.Where(s => s.Name is not ("loss_type" or "negative_samples_count" or "use_candidate_embeddings")),
        new("use_candidate_embeddings", ParamKind.Bool, true,
            "Score against a separate output embedding table (the gSASRec reference's default) instead of the tied input one.", null),
        new("negative_samples_count", ParamKind.Int, 256L, "Negatives per positive for gBCE (the paper's 256).", 1, 100_000),
        new("gbce_t", ParamKind.Float, 0.75, "gBCE calibration t in [0, 1]: 0 is plain BCE, 1 fully corrects the sampling rate (beta = alpha).", 0, 1),
    ];

    /// <summary>Losses of the models that score by dot product with item embeddings (shared by GRU4Rec and Caser).</summary>
    private static readonly ParamSpec[] SampledLossParams =
    [
        new("loss_type", ParamKind.Choice, "CE", "CE (softmax over all items, or sampled softmax when neg_samples > 0), BPR or BCE (sampled negatives).", Choices: ["CE", "BPR", "BCE"]),
        new("neg_samples", ParamKind.Int, null, "Negatives per positive; default 0 for CE (full softmax), 1 for BPR/BCE.", 0, 100_000),
        new("sample_strategy", ParamKind.Choice, "uniform", "How training negatives are drawn: uniform over items or proportional to popularity.", Choices: ["uniform", "popularity"]),
    ];

    private static readonly ParamSpec[] Gru4RecParams =
    [
        new("embedding_size", ParamKind.Int, 64L, "Item embedding width (also the width items are scored in).", 1, 8192),
        new("hidden_size", ParamKind.Int, 128L, "GRU state width.", 1, 8192),
        new("num_layers", ParamKind.Int, 1L, "Stacked GRU layers.", 1, 16),
        new("dropout_prob", ParamKind.Float, 0.2, "Dropout on the input embeddings and between GRU layers.", 0, 1, MaxExclusive: true),
        new("max_seq_length", ParamKind.Int, 50L, "Most recent items fed to the model.", 1, 8192),
        .. SampledLossParams,
    ];

    private static readonly ParamSpec[] CaserParams =
    [
        new("embedding_size", ParamKind.Int, 64L, "Item and user embedding width d.", 1, 8192),
        new("n_h", ParamKind.Int, 16L, "Horizontal filters per height (heights 1..L).", 1, 1024),
        new("n_v", ParamKind.Int, 4L, "Vertical filters.", 1, 1024),
        new("window_length", ParamKind.Int, 5L, "L: the most recent items the convolutions read (the paper's Markov order).", 1, 512),
        new("dropout_prob", ParamKind.Float, 0.5, "Dropout on the convolution features.", 0, 1, MaxExclusive: true),
        new("max_seq_length", ParamKind.Int, 50L, "Most recent transitions of each user trained on per epoch.", 1, 8192),
        .. SampledLossParams,
    ];

    private static readonly ParamSpec[] Bert4RecParams =
    [
        new("embedding_size", ParamKind.Int, 64L, "Embedding and transformer width.", 1, 8192),
        new("inner_size", ParamKind.Int, 256L, "Feed-forward inner width.", 1, 65536),
        new("n_layers", ParamKind.Int, 2L, "Transformer blocks.", 1, 64),
        new("n_heads", ParamKind.Int, 2L, "Attention heads (must divide embedding_size).", 1, 256),
        new("dropout_prob", ParamKind.Float, 0.2, "Dropout on embeddings and block outputs.", 0, 1, MaxExclusive: true),
        new("attn_dropout_prob", ParamKind.Float, 0.2, "Dropout on attention weights.", 0, 1, MaxExclusive: true),
        new("hidden_act", ParamKind.Choice, "gelu", "Feed-forward activation.", Choices: ["gelu", "relu", "swish", "tanh", "sigmoid"]),
        new("layer_norm_eps", ParamKind.Float, 1e-8, "LayerNorm epsilon.", 0, 1, MinExclusive: true, MaxExclusive: true),
        new("max_seq_length", ParamKind.Int, 50L, "Most recent items fed to the model (one more position holds the [MASK] scored at inference).", 1, 8192),
        new("mask_rate", ParamKind.Float, 0.2, "Share of training positions replaced by [MASK] and predicted (the cloze task).", 0, 1, MinExclusive: true, MaxExclusive: true),
    ];

    private static readonly Dictionary<string, ParamSpec[]> Specs = new(StringComparer.Ordinal)
    {
        [SasRec] = [.. TrialParams, .. LoopParams, .. SasRecParams],
        [GSasRec] = [.. TrialParams, .. LoopParams, .. GSasRecParams],
        [Gru4Rec] = [.. TrialParams, .. LoopParams, .. Gru4RecParams],
        [Caser] = [.. TrialParams, .. LoopParams, .. CaserParams],
        [Bert4Rec] = [.. TrialParams, .. LoopParams, .. Bert4RecParams],
        [Popularity] = TrialParams,
    };

    /// <summary>Other names a model's hyperparameters may be written under (alias → our name).</summary>
    public static IReadOnlyDictionary<string, string> Aliases(string model) => ForeignNames.HyperparameterAliases(model);

    public static IReadOnlyCollection<string> Models => Specs.Keys;

    public static bool IsKnown(string model) => Specs.ContainsKey(model);

    public static IReadOnlyList<ParamSpec> ParamsOf(string model) => Specs[model];

    /// <summary>
    /// Cross-field checks on a model's resolved hyperparameters. Returns (parameter name, message) pairs;
    /// the caller places each at the parameter's position in the file.
    /// </summary>
    public static IEnumerable<(string Param, string Message)> CrossCheck(string model, TrialParameters p, DataConfig data)
    {
        if (model is Popularity) yield break;
        string width = model is SasRec or GSasRec ? "hidden_size" : "embedding_size";
        if (p.Values.ContainsKey("n_heads") && p.GetInt(width) % p.GetInt("n_heads") != 0)
            yield return ("n_heads", $"{width} ({p.GetInt(width)}) must be divisible by n_heads ({p.GetInt("n_heads")})");
        if (p.Values.ContainsKey("loss_type"))
        {
            string loss = p.GetString("loss_type");
            string count = model is SasRec ? "negative_samples_count" : "neg_samples";
            long negatives = p.GetInt(count);
            if (loss != "CE" && p.IsExplicit(count) && negatives < 1)
                yield return (count, $"loss_type {loss} needs at least one negative per positive");
            if (loss == "CE" && negatives == 0 && p.IsExplicit("sample_strategy"))
                yield return ("sample_strategy", $"sample_strategy applies only when negatives are sampled: set {count} > 0 or loss_type BPR/BCE");
        }
        if (model is not (SasRec or GSasRec)) yield break;
        if (p.IsExplicit("initializer_range") && p.GetString("initializer") != "normal")
            yield return ("initializer_range", "initializer_range applies only with initializer: normal");
        if (p.GetBool("append_item_features") && data.ItemFeaturesPath is null)
            yield return ("append_item_features", "append_item_features needs data.item_features (a RecBole .item file)");
        if (p.GetBool("append_item_embeddings") && data.ItemEmbeddingsPath is null)
            yield return ("append_item_embeddings", "append_item_embeddings needs data.item_embeddings (a text file of item vectors)");
    }

    /// <summary>Fills values that default from other hyperparameters.</summary>
    public static ParamValue DerivedDefault(string name, IReadOnlyDictionary<string, ParamValue> values) => name switch
    {
        "negative_samples_count" or "neg_samples" => (string)values["loss_type"] == "CE" ? 0L : 1L,
        _ => throw new InvalidOperationException($"no derived default for {name}"),
    };
}
