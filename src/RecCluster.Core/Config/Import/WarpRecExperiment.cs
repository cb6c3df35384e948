using System.Globalization;
using RecCluster.Core.Evaluation;
using YamlDotNet.RepresentationModel;
using Entries = System.Collections.Generic.Dictionary<string,
    (YamlDotNet.RepresentationModel.YamlNode Key, YamlDotNet.RepresentationModel.YamlNode Value)>;

namespace RecCluster.Core.Config.Import;

/// <summary>
/// A whole WarpRec experiment file (reader, splitter, evaluation, models with their optimization, general, dashboard,
/// writer) rewritten as our sweep. What has a counterpart is translated; what means nothing here is a warning saying what
/// happens instead; what we cannot honour is an error at its position.
/// </summary>
internal static class WarpRecExperiment
{
    private static readonly string[] TopKeys =
        ["reader", "writer", "splitter", "evaluation", "models", "general", "dashboard", "filtering"];

    private static readonly string[] ReaderKeys =
        ["loading_strategy", "data_type", "reading_method", "local_path", "azure_blob_name", "sep", "header", "rating_type", "file_format",
         "split", "side", "clustering", "labels", "dtypes"];

    private static readonly string[] EvaluationKeys =
        ["top_k", "metrics", "complex_metrics", "validation_metric", "batch_size", "strategy", "num_negatives", "seed", "stat_significance",
         "full_evaluation_on_report", "max_metric_per_row", "save_evaluation", "save_per_user"];

    private static readonly string[] OptimizationKeys =
        ["strategy", "scheduler", "properties", "validation_metric", "device", "block_size", "num_samples", "cpu_per_trial",
         "gpu_per_trial", "parallel_trials", "max_cpu_count", "multi_gpu", "num_gpus", "checkpoint_to_keep"];

    private static readonly string[] PropertyKeys =
        ["mode", "seed", "time_attr", "max_t", "grace_period", "reduction_factor", "desired_training_it"];

    /// <summary>The sections a WarpRec model block holds besides its hyperparameters.</summary>
    internal static readonly string[] ModelSections = ["optimization", "early_stopping", "meta"];

    public static Tree? Translate(YamlSource source, YamlMappingNode root)
    {
        var top = source.Mapping(root, "the WarpRec experiment", TopKeys);
        if (top is null) return null;
        var output = new List<(Tree, Tree)>();
        if (top.TryGetValue("dashboard", out var dashboard))
            source.Warn(dashboard.Key, "dashboard (W&B, MLflow, CodeCarbon) is not used: trials stream into the live table of " +
                "`reccluster sweep` and the leaderboard store; query them with `reccluster leaderboard`");
        if (top.TryGetValue("writer", out var writer))
            source.Warn(writer.Key, "writer is not used: results are kept in the leaderboard store (--state DIR/leaderboard.sqlite); " +
                "export them with `reccluster leaderboard --format csv`");
        if (top.TryGetValue("filtering", out var filtering))
            source.Error(filtering.Key, "filtering is not translated; filter the file beforehand, or convert with " +
                "`reccluster import warprec` and set data.min_user_interactions / data.min_item_interactions");

        string? device = top.TryGetValue("general", out var general) ? General(source, general.Value) : null;
        if (Require(source, top, "reader", root) is { } reader && Reader(source, reader) is { } data)
            output.Add((Tree.Scalar("data", reader), data));
        if (Require(source, top, "splitter", root) is { } splitter && Splitter(source, splitter) is { } split)
            output.Add((Tree.Scalar("split", splitter), split));

        var evaluation = top.TryGetValue("evaluation", out var ev) ? Evaluation(source, ev.Value) : EvaluationPart.None;
        if (evaluation.Section is not null) output.Add((Tree.Scalar("evaluation", ev.Value), evaluation.Section));

        var modelsNode = Require(source, top, "models", root);
        if (modelsNode is YamlMappingNode models)
        {
            var sweep = new SweepPart();
            bool changed = false;
            var translated = ConfigImport.Models(source, models,
                m => ModelSettings(source, models, m.Model, m.Key, device, evaluation.BatchSize, sweep), ModelSections, ref changed);
            var (metric, metricAt) = evaluation.Metric ?? sweep.Metric ?? DefaultMetric(source, evaluation, ev.Value ?? root);
            var objective = new List<(Tree, Tree)> { (Tree.Scalar("metric", metricAt), Tree.Scalar(metric, metricAt)) };
            if (sweep.Mode is YamlScalarNode mode)
                objective.Add((Tree.Scalar("mode", mode), Tree.Scalar((mode.Value ?? "").ToLowerInvariant(), mode)));
            output.Add((Tree.Scalar("objective", metricAt), Tree.Map(metricAt, objective)));
            output.Add((Tree.Scalar("models", modelsNode), translated));
            output.AddRange(sweep.Sections(modelsNode));
        }
        else if (modelsNode is not null) source.Error(modelsNode, "models must be a mapping of WarpRec model names to their settings");
        return Tree.Map(root, output);
    }

    private static YamlNode? Require(YamlSource source, Entries map, string key, YamlNode parent)
    {
        if (map.TryGetValue(key, out var entry)) return entry.Value;
        source.Error(parent, $"a WarpRec experiment needs its '{key}' section");
        return null;
    }

    private static string? Text(YamlSource source, Entries map, string key, string what) =>
        map.TryGetValue(key, out var e) ? source.String(e.Value, what) : null;

    private static bool IsTrue(YamlNode node) => node is YamlScalarNode s && YamlSource.ScalarValue(s) is true;

    private static bool AnyTrue(YamlNode node) => node switch
    {
        YamlMappingNode m => m.Children.Values.Any(AnyTrue),
        YamlSequenceNode q => q.Children.Any(AnyTrue),
        _ => IsTrue(node),
    };

    /// <summary>general: the device every model trains on; nothing else has a counterpart.</summary>
    private static string? General(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "general",
            ["precision", "device", "backend", "ray_verbose", "time_report", "custom_modules", "callback", "azure"]);
        if (map is null) return null;
        if (Text(source, map, "precision", "general.precision") is { } precision && precision != "float32")
            source.Error(map["precision"].Value, $"general.precision '{precision}' is not supported; models train in float32");
        foreach (var key in new[] { "backend", "ray_verbose", "time_report" }.Where(map.ContainsKey))
            source.Warn(map[key].Key, $"general.{key} is not used: progress goes to stderr as a live table, results to stdout");
        foreach (var key in new[] { "custom_modules", "callback", "azure" }.Where(map.ContainsKey))
            source.Error(map[key].Key, $"general.{key} is not supported: RecCluster runs no Python modules, callbacks or Azure storage");
        return map.TryGetValue("device", out var d) ? Device(source, d.Value, "general.device") : null;
    }

    private static string? Device(YamlSource source, YamlNode node, string what)
    {
        var device = source.String(node, what);
        if (device is null or "cpu" or "cuda") return device;
        source.Error(node, $"{what} '{device}' is not supported: use cpu or cuda, and choose GPUs with gpu_per_trial " +
            "(slots get CUDA_VISIBLE_DEVICES)");
        return null;
    }

    /// <summary>reader → data: a local tab- or comma-separated file with a header naming user_id, item_id (and timestamp).</summary>
    private static Tree? Reader(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "reader", ReaderKeys);
        if (map is null) return null;
        void Only(string key, string expected, string why)
        {
            if (Text(source, map, key, $"reader.{key}") is { } v && !v.Equals(expected, StringComparison.OrdinalIgnoreCase))
                source.Error(map[key].Value, $"reader.{key} '{v}' is not supported: {why}");
        }
        Only("loading_strategy", "dataset", "pre-split files are not read; each user's sequence is split here (leave-one-out)");
        Only("data_type", "transaction", "interactions are read as transactions");
        Only("reading_method", "local", "only local files are read");
        Only("file_format", "tabular", "only tab- or comma-separated text files are read");
        foreach (var key in new[] { "azure_blob_name", "split", "side", "clustering" }.Where(map.ContainsKey))
            source.Error(map[key].Key, $"reader.{key} is not supported" + (key == "side"
                ? "; item side information is data.item_features (a RecBole .item file) in our config" : ""));
        if (map.TryGetValue("header", out var header) && !IsTrue(header.Value))
            source.Error(header.Value, "reader.header must be true: the columns are found by their names user_id, item_id and timestamp");
        if (Text(source, map, "rating_type", "reader.rating_type") == "explicit")
            source.Warn(map["rating_type"].Key, "ratings are not used: every interaction is one event of its user's sequence, as with " +
                "implicit");
        if (map.TryGetValue("labels", out var labels) && source.Mapping(labels.Value, "reader.labels",
                ["user_id_label", "item_id_label", "rating_label", "timestamp_label"]) is { } names)
            foreach (var (key, (_, value)) in names)
                if (source.String(value, $"reader.labels.{key}") is { } label && label != key[..^"_label".Length])
                    source.Error(value, $"reader.labels.{key} '{label}' is not supported: columns are read by the names user_id, " +
                        "item_id and timestamp; rename the column in the file");
        if (map.TryGetValue("dtypes", out var dtypes))
            source.Warn(dtypes.Key, "reader.dtypes is not used: ids are read as text and timestamps as numbers");

        var sep = map.TryGetValue("sep", out var s) ? source.String(s.Value, "reader.sep") : "\t";
        string? format = sep switch { "\t" or "\\t" => "atomic", "," => "csv", _ => null };
        if (format is null && sep is not null) source.Error(s.Value, $"reader.sep '{sep}' is not supported: use a tab or a comma");
        if (!map.TryGetValue("local_path", out var path))
        {
            source.Error(node, "reader needs local_path (the interaction file; relative paths resolve against this file's folder)");
            return null;
        }
        var formatAt = map.TryGetValue("sep", out var written) ? written.Value : path.Key;
        return Tree.Map(node,
            [(Tree.Scalar("path", path.Key), Tree.Copy(path.Value)),
             (Tree.Scalar("format", formatAt), Tree.Scalar(format ?? "auto", formatAt))]);
    }

    /// <summary>
    /// splitter → split: temporal_leave_k_out with k 1 is our leave_one_out block, temporal_holdout our block of the same
    /// name with its ratio (a user then has several test items); both leave-one-out stays the short form.
    /// </summary>
    private static Tree? Splitter(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "splitter", ["test_splitting", "validation_splitting"]);
        if (map is null) return null;
        if (!map.TryGetValue("test_splitting", out var test))
        {
            source.Error(node, "splitter needs test_splitting (temporal_leave_k_out with k: 1, or temporal_holdout with a ratio)");
            return null;
        }
        var testPart = SplitPart(source, test.Value, "test_splitting");
        var validPart = map.TryGetValue("validation_splitting", out var valid)
            ? SplitPart(source, valid.Value, "validation_splitting")
            : (Tree.Map(test.Key, [(Tree.Scalar("strategy", test.Key), Tree.Scalar("leave_one_out", test.Key))]), true);
        if (valid.Key is null)
            source.Warn(test.Key, "no validation_splitting: each user's last item before the test block is still held out for validation " +
                "(model selection and early stopping), as temporal_leave_k_out with k: 1 would");
        if (testPart is not { } t || validPart is not { } v) return null;
        if (t.LeaveOneOut && v.LeaveOneOut) return Tree.Scalar("leave_one_out", test.Value);
        return Tree.Map(node, [(Tree.Scalar("test", test.Key), t.Part), (Tree.Scalar("valid", valid.Key ?? test.Key), v.Part)]);
    }

    private static (Tree Part, bool LeaveOneOut)? SplitPart(YamlSource source, YamlNode node, string what)
    {
        var map = source.Mapping(node, $"splitter.{what}", ["strategy", "k", "ratio", "timestamp", "folds", "seed"]);
        if (map is null) return null;
        if (!map.TryGetValue("strategy", out var strategy)) { source.Error(node, $"splitter.{what} needs a strategy"); return null; }
        var name = source.String(strategy.Value, $"splitter.{what}.strategy");
        string[] unused;
        (Tree Part, bool LeaveOneOut)? part;
        switch (name)
        {
            case "temporal_leave_k_out":
                if (map.TryGetValue("k", out var k) && source.Integer(k.Value, $"splitter.{what}.k", 1, int.MaxValue) is { } count and not 1)
                    source.Error(k.Value, $"splitter.{what}.k {count} is not supported: only k: 1 (leave-one-out) is; for several held-out " +
                        "items a user, use temporal_holdout with a ratio");
                unused = ["ratio", "timestamp", "folds", "seed"];
                part = (Tree.Map(node, [(Tree.Scalar("strategy", strategy.Key), Tree.Scalar("leave_one_out", strategy.Value))]), true);
                break;
            case "temporal_holdout":
                unused = ["k", "timestamp", "folds", "seed"];
                if (!map.TryGetValue("ratio", out var ratio))
                {
                    source.Error(node, $"splitter.{what} temporal_holdout needs a ratio (the share of each user's latest interactions held out)");
                    part = null;
                }
                else part = (Tree.Map(node, [(Tree.Scalar("strategy", strategy.Key), Tree.Scalar("temporal_holdout", strategy.Value)),
                    (Tree.Scalar("ratio", ratio.Key), Tree.Copy(ratio.Value))]), false);
                break;
            default:
                string why = name == "k_fold_cross_validation"
                    ? "cross-validation is not supported; use temporal_leave_k_out with k: 1 or temporal_holdout"
                    : "use temporal_leave_k_out with k: 1 (each user's last item held out) or temporal_holdout with a ratio (their latest share)";
                if (name is not null) source.Error(strategy.Value, $"splitter.{what}.strategy '{name}' is not supported: {why}");
                return null;
        }
        foreach (var key in unused.Where(map.ContainsKey))
            source.Error(map[key].Key, $"splitter.{what}.{key} does not apply to {name}");
        return part;
    }

    private sealed record EvaluationPart(Tree? Section, (string Metric, YamlNode At)? Metric, YamlNode? BatchSize, IReadOnlyList<int> Cutoffs)
    {
        public static readonly EvaluationPart None = new(null, null, null, []);
    }

    /// <summary>evaluation → ours: cutoffs, metric names, full or sampled protocol; the validation metric is the objective.</summary>
    private static EvaluationPart Evaluation(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "evaluation", EvaluationKeys);
        if (map is null) return EvaluationPart.None;
        var section = new List<(Tree, Tree)>();
        var cutoffs = new List<int>();
        if (map.TryGetValue("top_k", out var topK))
        {
            var items = topK.Value is YamlSequenceNode list ? list.Children : [topK.Value];
            cutoffs.AddRange(items.OfType<YamlScalarNode>().Select(YamlSource.ScalarValue).OfType<long>().Select(v => (int)v));
            section.Add((Tree.Scalar("cutoffs", topK.Key), Tree.List(topK.Value, items.Select(Tree.Copy))));
        }
        if (map.TryGetValue("metrics", out var metrics) && source.Sequence(metrics.Value, "evaluation.metrics") is { } names)
            section.Add((Tree.Scalar("metrics", metrics.Key), Tree.List(metrics.Value, names.Select(n => Metric(source, n)))));
        if (map.TryGetValue("strategy", out var strategy))
            section.Add((Tree.Scalar("protocol", strategy.Key), Tree.Copy(strategy.Value)));
        if (map.TryGetValue("num_negatives", out var negatives))
            section.Add((Tree.Scalar("sampled_negatives", negatives.Key), Tree.Copy(negatives.Value)));
        if (map.TryGetValue("seed", out var seed))
            source.Warn(seed.Key, "evaluation.seed is not used: sampled negatives are drawn from each trial's sample_seed");
        foreach (var key in new[] { "full_evaluation_on_report", "max_metric_per_row", "save_evaluation" }.Where(map.ContainsKey))
            source.Warn(map[key].Key, $"evaluation.{key} is not used: every validation is reported live and every metric is kept in " +
                "the leaderboard store");
        if (map.TryGetValue("complex_metrics", out var complex))
            source.Error(complex.Key, "evaluation.complex_metrics is not supported; the metrics are nDCG, Precision, Recall, HitRate " +
                "and MRR");
        if (map.TryGetValue("stat_significance", out var tests) && AnyTrue(tests.Value))
            source.Error(tests.Key, "evaluation.stat_significance is not supported: no statistical tests are run; repeat trials over " +
                "sample_seed and compare them with `reccluster leaderboard --group-by sample_seed` (mean ± std)");
        if (map.TryGetValue("save_per_user", out var perUser) && IsTrue(perUser.Value))
            source.Error(perUser.Value, "evaluation.save_per_user is not supported: metrics are kept per trial and epoch, not per user");
        var metric = map.TryGetValue("validation_metric", out var vm) ? ValidationMetric(source, vm.Value) : null;
        return new EvaluationPart(section.Count > 0 ? Tree.Map(node, section) : null, metric,
            map.TryGetValue("batch_size", out var batch) ? batch.Value : null, cutoffs);
    }

    private static Tree Metric(YamlSource source, YamlNode node)
    {
        var name = source.String(node, "a metric") ?? "";
        if (ForeignNames.Metrics.TryGetValue(name, out var kind)) return Tree.Scalar(MetricName.KindNames[(int)kind], node);
        source.Error(node, $"WarpRec metric '{name}' has no counterpart here; supported: {string.Join(", ", ForeignNames.Metrics.Keys)}");
        return Tree.Copy(node);
    }

    /// <summary>WarpRec's <c>nDCG@10</c> as our <c>ndcg@10</c>.</summary>
    private static (string, YamlNode)? ValidationMetric(YamlSource source, YamlNode node)
    {
        var text = source.String(node, "validation_metric");
        var parts = text?.Split('@');
        if (parts is [var name, var k] && ForeignNames.Metrics.TryGetValue(name, out var kind)
            && int.TryParse(k, out var cutoff) && cutoff > 0)
            return (MetricName.Format(kind, cutoff), node);
        if (text is not null)
            source.Error(node, $"validation_metric '{text}' is not a metric@k with a metric among " +
                string.Join(", ", ForeignNames.Metrics.Keys));
        return null;
    }

    /// <summary>WarpRec validates on nDCG@5 unless told otherwise; without a cutoff of 5, on nDCG at the smallest cutoff.</summary>
    private static (string, YamlNode) DefaultMetric(YamlSource source, EvaluationPart evaluation, YamlNode at)
    {
        if (evaluation.Cutoffs.Count == 0 || evaluation.Cutoffs.Contains(5)) return ("ndcg@5", at);
        int k = evaluation.Cutoffs.Min();
        source.Warn(at, $"no validation_metric and no cutoff 5 for WarpRec's default nDCG@5: trials are selected by ndcg@{k}");
        return ($"ndcg@{k}", at);
    }

    /// <summary>The sweep-wide settings read from the models' optimization blocks; they must agree, as one sweep has one search.</summary>
    private sealed class SweepPart
    {
        public readonly Dictionary<string, (YamlNode Key, YamlNode Value)> Settings = new(StringComparer.Ordinal);
        public string? FirstModel;
        public (string, YamlNode)? Metric;
        public YamlNode? Mode;

        public IEnumerable<(Tree, Tree)> Sections(YamlNode at)
        {
            (Tree, Tree) Entry(string ours, string theirs) =>
                (Tree.Scalar(ours, Settings[theirs].Key), WholeNumber(Settings[theirs].Value));
            var search = new List<(Tree, Tree)>();
            if (Settings.TryGetValue("strategy", out var strategy))
            {
                var algorithm = ForeignNames.Strategies[((YamlScalarNode)strategy.Value).Value!].Ours!.Value;
                search.Add((Tree.Scalar("algorithm", strategy.Key), Tree.Scalar(algorithm.ToString().ToLowerInvariant(), strategy.Value)));
            }
            if (Settings.ContainsKey("num_samples")) search.Add(Entry("num_trials", "num_samples"));
            if (Settings.ContainsKey("seed")) search.Add(Entry("seed", "seed"));
            if (search.Count > 0) yield return (Tree.Scalar("search", at), Tree.Map(at, search));
            if (Settings.TryGetValue("scheduler", out var scheduler))
            {
                var kind = ((YamlScalarNode)scheduler.Value).Value!.ToLowerInvariant();
                var asha = new[] { "grace_period", "reduction_factor", "max_t" }.Where(Settings.ContainsKey)
                    .Select(k => Entry(k, k)).ToList();
                yield return (Tree.Scalar("scheduler", scheduler.Key), kind == "asha"
                    ? Tree.Map(scheduler.Value, [(Tree.Scalar("asha", scheduler.Value), Tree.Map(scheduler.Value, asha))])
                    : Tree.Scalar(kind, scheduler.Value));
            }
            var resources = new List<(Tree, Tree)>();
            if (Settings.TryGetValue("gpu_per_trial", out var gpus))
                resources.Add((Tree.Scalar("gpus_per_trial", gpus.Key), Tree.Copy(gpus.Value)));
            if (Settings.ContainsKey("cpu_per_trial")) resources.Add(Entry("cpus_per_trial", "cpu_per_trial"));
            if (resources.Count > 0) yield return (Tree.Scalar("resources", at), Tree.Map(at, resources));
            if (Settings.ContainsKey("parallel_trials")) yield return Entry("max_concurrent_trials", "parallel_trials");
        }
    }

    /// <summary>WarpRec writes counts as floats (cpu_per_trial: 2.0); ours are whole numbers.</summary>
    private static Tree WholeNumber(YamlNode node) =>
        node is YamlScalarNode s && YamlSource.ScalarValue(s) is double d && double.IsInteger(d) && Math.Abs(d) < 1e15
            ? Tree.Scalar(((long)d).ToString(CultureInfo.InvariantCulture), node) : Tree.Copy(node);

    /// <summary>
    /// A model's optimization, early_stopping and meta: sweep-wide settings go to <paramref name="sweep"/> (and must agree across
    /// models); the device, early stopping and evaluation batch become the model's own hyperparameters.
    /// </summary>
    private static IEnumerable<(Tree, Tree)> ModelSettings(YamlSource source, YamlMappingNode models, string model, YamlNode modelKey,
        string? generalDevice, YamlNode? evalBatch, SweepPart sweep)
    {
        var block = models.Children[modelKey] as YamlMappingNode;
        YamlNode? Section(string key) => block?.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: var k } && k == key).Value;
        var added = new List<(Tree, Tree)>();
        var name = ((YamlScalarNode)modelKey).Value;
        var settings = new Dictionary<string, (YamlNode Key, YamlNode Value)>(StringComparer.Ordinal);
        string? device = generalDevice;
        YamlNode deviceAt = modelKey;
        if (Section("optimization") is { } optimization
            && source.Mapping(optimization, $"models.{name}.optimization", OptimizationKeys) is { } opt)
        {
            foreach (var (key, entry) in opt) Optimization(source, name!, key, entry, settings, sweep);
            if (opt.TryGetValue("device", out var d))
                (device, deviceAt) = (Device(source, d.Value, $"models.{name}.optimization.device"), d.Value);
        }
        if (device is not null) added.Add((Tree.Scalar("device", deviceAt), Tree.Scalar(device, deviceAt)));
        if (evalBatch is not null) added.Add((Tree.Scalar("eval_batch_size", evalBatch), Tree.Copy(evalBatch)));
        if (model != ModelCatalog.Popularity) added.AddRange(EarlyStopping(source, name!, Section("early_stopping"), modelKey));
        if (Section("meta") is { } meta) Meta(source, name!, meta);
        if (Section("optimization") is not null) Agree(source, name!, modelKey, settings, sweep);
        else if (models.Children.Values.OfType<YamlMappingNode>()
                 .Any(m => m.Children.Keys.Any(k => k is YamlScalarNode { Value: "optimization" })))
            source.Warn(modelKey, $"models.{name} has no optimization block: it is swept with the search, scheduler and resources of " +
                "the models that have one (one sweep has one of each)");
        return added;
    }

    private static void Optimization(YamlSource source, string model, string key, (YamlNode Key, YamlNode Value) entry,
        Dictionary<string, (YamlNode Key, YamlNode Value)> settings, SweepPart sweep)
    {
        string where = $"models.{model}.optimization.{key}";
        switch (key)
        {
            case "strategy":
                var strategy = source.String(entry.Value, where);
                if (strategy is null) return;
                if (!ForeignNames.Strategies.TryGetValue(strategy, out var s))
                    source.Error(entry.Value,
                        $"{where} '{strategy}' is not known; {Suggestions.DidYouMean(strategy, ForeignNames.Strategies.Keys)}");
                else if (s.Ours is null) source.Error(entry.Value, $"{where} '{strategy}': {s.Why}");
                else
                {
                    if (s.Why.Length > 0) source.Warn(entry.Value, $"{where} '{strategy}' {s.Why}");
                    settings[key] = entry;
                }
                break;
            case "scheduler":
                var scheduler = source.String(entry.Value, where);
                if (scheduler is not null && !ForeignNames.Schedulers.ContainsKey(scheduler))
                    source.Error(entry.Value,
                        $"{where} '{scheduler}' is not supported; {Suggestions.DidYouMean(scheduler, ForeignNames.Schedulers.Keys)}");
                else if (scheduler is not null) settings[key] = entry;
                break;
            case "properties":
                if (source.Mapping(entry.Value, where, PropertyKeys) is not { } properties) return;
                foreach (var (name, property) in properties)
                {
                    if (name == "mode") sweep.Mode ??= property.Value;
                    else if (name == "desired_training_it")
                        source.Warn(property.Key,
                            $"{where}.desired_training_it is not used: it applies to cross-validation, which is not supported");
                    else if (name == "time_attr")
                    {
                        if (source.String(property.Value, $"{where}.time_attr") is { } attr and not "training_iteration")
                            source.Error(property.Value,
                                $"{where}.time_attr '{attr}' is not supported: schedulers count epochs (training_iteration)");
                    }
                    else settings[name] = property;
                }
                break;
            case "validation_metric":
                if (ValidationMetric(source, entry.Value) is { } metric) sweep.Metric ??= metric;
                break;
            case "device":
                break;   // the model's own hyperparameter, read by the caller
            case "block_size" or "checkpoint_to_keep" or "max_cpu_count":
                source.Warn(entry.Key, key switch
                {
                    "block_size" => $"{where} is not used: all items are scored at once for eval_batch_size users",
                    "checkpoint_to_keep" => $"{where} is not used: each trial keeps its best checkpoint and one to resume from",
                    _ => $"{where} is not used: give the trial slots with `reccluster sweep --slots N`",
                });
                break;
            case "multi_gpu" or "num_gpus":
                if (key == "num_gpus" || IsTrue(entry.Value))
                    source.Error(entry.Key,
                        $"{where} is not supported: give each trial several GPUs with gpu_per_trial (a whole number above 1)");
                break;
            default:
                settings[key] = entry;
                break;
        }
    }

    private static void Agree(YamlSource source, string model, YamlNode modelKey,
        Dictionary<string, (YamlNode Key, YamlNode Value)> settings, SweepPart sweep)
    {
        static string Value(Dictionary<string, (YamlNode Key, YamlNode Value)> map, string key) =>
            map.TryGetValue(key, out var e) && e.Value is YamlScalarNode s ? (s.Value ?? "").ToLowerInvariant() : "";
        if (sweep.FirstModel is null)
        {
            sweep.FirstModel = model;
            foreach (var (key, entry) in settings) sweep.Settings[key] = entry;
            return;
        }
        foreach (var key in settings.Keys.Union(sweep.Settings.Keys).Where(k => Value(settings, k) != Value(sweep.Settings, k)))
            source.Error(settings.TryGetValue(key, out var e) ? e.Key : modelKey,
                $"models.{model}: optimization {key} differs from {sweep.FirstModel}'s; one sweep has one search, scheduler and " +
                "resources for all its models, so give every model the same optimization (or sweep them in separate files)");
    }

    /// <summary>WarpRec stops early only when told (patience); without early_stopping every epoch runs.</summary>
    private static IEnumerable<(Tree, Tree)> EarlyStopping(YamlSource source, string model, YamlNode? node, YamlNode modelKey)
    {
        if (node is null) return [(Tree.Scalar("early_stopping_step", modelKey), Tree.Scalar("0", modelKey))];
        string where = $"models.{model}.early_stopping";
        var map = source.Mapping(node, where, ["monitor", "patience", "grace_period", "min_delta"]);
        if (map is null) return [];
        if (Text(source, map, "monitor", $"{where}.monitor") is { } monitor and not "score")
            source.Error(map["monitor"].Value,
                $"{where}.monitor '{monitor}' is not supported: early stopping watches the validation objective (score)");
        if (map.TryGetValue("grace_period", out var grace) && source.Integer(grace.Value, $"{where}.grace_period", 0, int.MaxValue) is > 0)
            source.Error(grace.Value, $"{where}.grace_period is not supported: patience counts from the first validation");
        if (map.TryGetValue("min_delta", out var delta) && source.Number(delta.Value, $"{where}.min_delta", 0, double.MaxValue) is > 0)
            source.Error(delta.Value, $"{where}.min_delta is not supported: any improvement of the objective counts");
        if (!map.TryGetValue("patience", out var patience))
        {
            source.Error(node, $"{where} needs patience (validations without improvement before stopping)");
            return [];
        }
        return [(Tree.Scalar("early_stopping_step", patience.Key), Tree.Copy(patience.Value))];
    }

    private static void Meta(YamlSource source, string model, YamlNode node)
    {
        string where = $"models.{model}.meta";
        var map = source.Mapping(node, where,
            ["save_model", "save_recs", "keep_all_ray_checkpoints", "load_from", "implementation", "low_memory"]);
        if (map is null) return;
        foreach (var (key, (k, value)) in map)
        {
            if (key is "save_model" or "keep_all_ray_checkpoints" or "low_memory")
                source.Warn(k, $"{where}.{key} is not used: each trial keeps its best checkpoint (best.pt) and reads the data into memory");
            else if (key == "save_recs" && IsTrue(value))
                source.Error(value, $"{where}.save_recs is not supported: no recommendation lists are written");
            else if (key == "load_from" && value is YamlScalarNode s && YamlSource.ScalarValue(s) is not null)
                source.Error(value, $"{where}.load_from is not supported: every trial trains from scratch");
            else if (key == "implementation" && source.String(value, $"{where}.implementation") is { } impl and not "latest")
                source.Error(value, $"{where}.implementation '{impl}' is not supported: each model has one implementation");
        }
    }
}
