using RecCluster.Core.Config.Import;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;
using RecCluster.Core.Sweeps;
using System.Globalization;
using System.Text.RegularExpressions;
using RecCluster.Core.Security;
using YamlDotNet.RepresentationModel;

namespace RecCluster.Core.Config;

/// <summary>
/// Parses and validates an experiment YAML file. Every problem is reported at once as
/// <c>file:line:col: message</c>; nothing is returned unless the whole file is valid.
/// Relative data paths resolve against the config file's folder.
/// </summary>
public static partial class ExperimentLoader
{
    private static readonly string[] TopKeys = ["name", "data", "split", "evaluation", "objective", "models", .. SweepSections.Keys];
    private static readonly string[] DataKeys =
        ["path", "format", "synthetic", "item_features", "item_feature_field", "item_embeddings", "min_user_interactions", "min_item_interactions"];
    private static readonly string[] EvaluationKeys = ["protocol", "sampled_negatives", "cutoffs", "metrics"];
    private static readonly string[] ObjectiveKeys = ["metric", "mode"];

    private static readonly Dictionary<string, DataFormat> Formats = new()
    {
        ["auto"] = DataFormat.Auto, ["atomic"] = DataFormat.Atomic, ["sasrec"] = DataFormat.SasRec,
        ["csv"] = DataFormat.Csv, ["movielens"] = DataFormat.MovieLens,
    };
    private static readonly Dictionary<string, EvalProtocol> Protocols = new() { ["full"] = EvalProtocol.Full, ["sampled"] = EvalProtocol.Sampled };
    private static readonly Dictionary<string, bool> Modes = new() { ["max"] = true, ["min"] = false };
    private static readonly string[] SplitKeys = ["test", "valid"];
    private static readonly string[] SplitPartKeys = ["strategy", "ratio"];
    private static readonly Dictionary<string, SplitStrategy> SplitStrategies = new()
    {
        ["leave_one_out"] = SplitStrategy.LeaveOneOut, ["temporal_holdout"] = SplitStrategy.TemporalHoldout,
    };
    private const string SplitForms = "write leave_one_out (the default: each user's last item for test, the one before for validation), " +
        "or one block each, e.g. {test: {strategy: temporal_holdout, ratio: 0.2}, valid: {strategy: leave_one_out}}";

    /// <summary>Loads a config that must describe exactly one trial (one model, fixed values).</summary>
    public static ExperimentConfig LoadTrial(string path)
    {
        var (config, source) = ParseTrial(path);
        if (source.Errors.Count > 0) throw new ConfigException(source.Errors);
        return config!.Experiment;
    }

    /// <summary>Loads a sweep: the same sections as a train config plus search, scheduler and resources.</summary>
    public static SweepConfig LoadSweep(string path) => Accepted(Parse(path, sweep: true));

    /// <summary>Loads a sweep from its submitted text (a trial process does this; the file itself is not read).</summary>
    public static SweepConfig LoadSweep(SweepSource text) => Accepted(Parse(text, sweep: true, DataRoots.Anywhere));

    /// <summary>
    /// Loads a submitted sweep whose data files must lie under <paramref name="roots"/> (after <c>..</c> and links): a file
    /// outside them is a problem at its key, naming the path, and whether it exists is not revealed.
    /// </summary>
    public static SweepConfig LoadSweep(SweepSource text, DataRoots roots) => Accepted(Parse(text, sweep: true, roots));

    private static SweepConfig Accepted((SweepConfig? Config, YamlSource Source, YamlNode? DataNode) parsed) =>
        parsed.Source.Errors.Count > 0 ? throw new ConfigException(parsed.Source.Errors) : parsed.Config!;

    /// <summary>
    /// What <c>reccluster validate</c> checks: the file must be a valid sweep, and it is a train config exactly when
    /// <see cref="LoadTrial"/> accepts it too, so every file accepted here is accepted by the command it is named for.
    /// <paramref name="loadData"/> reads the data as a trial would; the input errors it throws are reported at the
    /// data section.
    /// </summary>
    public static ConfigVerdict Validate(string path, Action<DataConfig> loadData)
    {
        var (sweep, source, dataNode) = Parse(path, sweep: true);
        if (sweep is not null)
        {
            try
            {
                loadData(sweep.Experiment.Data);
            }
            catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
            {
                source.Error(dataNode!, $"the data cannot be used: {e.Message}");
            }
        }
        if (source.Errors.Count > 0) throw new ConfigException(source.Errors);
        var trainErrors = ParseTrial(path).Source.Errors;
        return new ConfigVerdict(sweep!, trainErrors.Count == 0 ? ConfigKind.Train : ConfigKind.Sweep, trainErrors);
    }

    private static (SweepConfig? Config, YamlSource Source) ParseTrial(string path)
    {
        var (config, source, _) = Parse(path, sweep: false);
        if (config is not null && config.Models.Count != 1)
            source.Error(1, 1, $"a train config names exactly one model under 'models', found {config.Models.Count}");
        return (config, source);
    }

    private static (SweepConfig? Config, YamlSource Source, YamlNode? DataNode) Parse(string path, bool sweep)
    {
        SweepSource text;
        try
        {
            text = SweepSource.Read(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var unreadable = new YamlSource(path);
            unreadable.Error(1, 1, $"cannot read the file: {e.Message}");
            return (null, unreadable, null);
        }
        return Parse(text, sweep, DataRoots.Anywhere);
    }

    private static (SweepConfig? Config, YamlSource Source, YamlNode? DataNode) Parse(SweepSource text, bool sweep, DataRoots roots)
    {
        var path = text.Path;
        var source = YamlSource.Parse(path, text.Text, out var parsed);
        // Configs written for WarpRec or Shaped are rewritten into our shape first, keeping every position.
        var root = parsed is null ? null : ConfigImport.Translate(source, parsed);
        if (root is null) return (null, source, null);
        var top = source.Mapping(root, "the config", TopKeys);
        if (top is null) return (null, source, null);
        var folder = System.IO.Path.GetDirectoryName(path)!;

        string name = top.TryGetValue("name", out var n) ? source.String(n.Value, "name") ?? "" : DefaultName(path);
        // The name starts the sweep's id, which names its folders in the state and checkpoint storage: nothing may lead out.
        if (n.Value is not null && !SafeName().IsMatch(name))
            source.Error(n.Value, $"name '{name}' may hold only letters, digits, '.', '_' and '-', starting with a letter or digit " +
                "(it names the sweep's folders)");
        var split = top.TryGetValue("split", out var sp) ? ParseSplit(source, sp.Value) : DataSplit.LeaveOneOut;

        var dataNode = Require(source, top, "data", root);
        var data = dataNode is not null && ParseData(source, dataNode, folder, roots) is { } parsedData && split is not null
            ? parsedData with { Split = split }
            : null;
        var evaluation = top.TryGetValue("evaluation", out var ev) ? ParseEvaluation(source, ev.Value) : DefaultEvaluation();
        var objective = top.TryGetValue("objective", out var ob) ? ParseObjective(source, ob.Value, evaluation) : new Objective("ndcg@10", true);
        if (evaluation is not null && objective is not null && !evaluation.MetricNames.Contains(objective.Metric))
            source.Error(ob.Value ?? root, $"objective metric '{objective.Metric}' is not among the evaluated metrics ({string.Join(", ", evaluation.MetricNames)})");
        var models = Require(source, top, "models", root) is { } modelsNode && data is not null ? ParseModels(source, modelsNode, data, sweep) : null;

        foreach (var key in SweepSections.Keys.Where(top.ContainsKey))
            if (!sweep) source.Error(top[key].Key, $"'{key}' applies to sweeps (reccluster sweep); a train config runs one trial");
        var sweepSections = sweep ? SweepSections.Parse(source, top, root) : null;

        if (source.Errors.Count > 0 || data is null || evaluation is null || objective is null || models is null || (sweep && sweepSections is null))
            return (null, source, dataNode);
        var fixedModels = models.Where(m => m.IsFixed).Select(m => new ModelConfig(m.Name,
            m.Resolve(m.Space.ToDictionary(kv => kv.Key, kv => ((FixedDomain)kv.Value).Value)))).ToList();
        var experiment = new ExperimentConfig(name, path, data, evaluation, objective, fixedModels);
        var sections = sweepSections ?? SweepSections.Defaults;
        return (new SweepConfig(experiment, models, sections.Search, sections.Scheduler, sections.Resources, sections.MaxConcurrentTrials,
            sections.MaxFailures, sections.TimeBudgetSeconds, text), source, dataNode);
    }

    /// <summary>split: <c>leave_one_out</c>, or <c>{test: PART, valid: PART}</c> with PART a strategy and, for a holdout, its ratio.</summary>
    private static DataSplit? ParseSplit(YamlSource source, YamlNode node)
    {
        if (node is YamlScalarNode)
        {
            var name = source.String(node, "split");
            if (name == "leave_one_out") return DataSplit.LeaveOneOut;
            if (name is not null) source.Error(node, $"split '{name}' is not supported: {SplitForms}");
            return null;
        }
        var map = source.Mapping(node, "split", SplitKeys);
        if (map is null) return null;
        var test = map.TryGetValue("test", out var t) ? ParseSplitPart(source, t.Value, "split.test") : SplitPart.LastItem;
        var valid = map.TryGetValue("valid", out var v) ? ParseSplitPart(source, v.Value, "split.valid") : SplitPart.LastItem;
        return test is null || valid is null ? null : new DataSplit(test, valid);
    }

    private static SplitPart? ParseSplitPart(YamlSource source, YamlNode node, string what)
    {
        var map = source.Mapping(node, what, SplitPartKeys);
        if (map is null) return null;
        if (!map.TryGetValue("strategy", out var s))
        {
            source.Error(node, $"{what} needs a strategy: leave_one_out or temporal_holdout (with a ratio)");
            return null;
        }
        var strategy = source.Choice(s.Value, $"{what}.strategy", SplitStrategies);
        map.TryGetValue("ratio", out var r);
        if (strategy == SplitStrategy.LeaveOneOut)
        {
            if (r.Key is not null) source.Error(r.Key, $"{what}.ratio does not apply to leave_one_out (one item is held out)");
            return r.Key is null ? SplitPart.LastItem : null;
        }
        if (strategy is null) return null;
        if (r.Value is null)
        {
            source.Error(node, $"{what} temporal_holdout needs a ratio: the share of each user's latest items held out, e.g. 0.2");
            return null;
        }
        if (source.Number(r.Value, $"{what}.ratio", 0, 1) is not { } ratio) return null;
        if (ratio is > 0 and < 1) return SplitPart.Latest(ratio);
        source.Error(r.Value, $"{what}.ratio must lie strictly between 0 and 1, got {ratio.ToString(CultureInfo.InvariantCulture)}");
        return null;
    }

    private static YamlNode? Require(YamlSource source, Dictionary<string, (YamlNode Key, YamlNode Value)> map, string key, YamlNode parent)
    {
        if (map.TryGetValue(key, out var entry)) return entry.Value;
        source.Error(parent, $"missing required key '{key}'");
        return null;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex SafeName();

    /// <summary>A file's name made safe for a sweep id: other characters become '-'.</summary>
    private static string DefaultName(string path)
    {
        var name = Regex.Replace(System.IO.Path.GetFileNameWithoutExtension(path), "[^A-Za-z0-9._-]", "-");
        if (name.Length > 90) name = name[..90];
        return SafeName().IsMatch(name) ? name : "sweep-" + name.TrimStart('.', '-', '_');
    }

    private static DataConfig? ParseData(YamlSource source, YamlNode node, string folder, DataRoots roots)
    {
        var map = source.Mapping(node, "data", DataKeys);
        if (map is null) return null;
        bool outside = false;
        string? Resolve(string key)
        {
            if (!map.TryGetValue(key, out var e) || source.String(e.Value, $"data.{key}") is not { } p) return null;
            var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, p));
            if (roots.Refusal(full) is not { } refusal) return full;
            source.Error(e.Value, $"data.{key}: {refusal}");
            outside = true;
            return null;
        }

        var path = Resolve("path");
        var features = Resolve("item_features");
        var embeddings = Resolve("item_embeddings");
        if (outside) return null;
        SyntheticConfig? synthetic = map.TryGetValue("synthetic", out var syn) ? ParseSynthetic(source, syn.Value) : null;
        if (map.ContainsKey("path") == map.ContainsKey("synthetic"))
            source.Error(node, "data needs exactly one of 'path' (an interaction file) or 'synthetic' (the built-in generator)");
        if (path is not null && !System.IO.File.Exists(path))
            source.Error(map["path"].Value, $"data file not found: {path}");

        var format = map.TryGetValue("format", out var f) ? source.Choice(f.Value, "data.format", Formats) ?? DataFormat.Auto : DataFormat.Auto;
        if (features is not null && !System.IO.File.Exists(features)) source.Error(map["item_features"].Value, $"item feature file not found: {features}");
        if (embeddings is not null && !System.IO.File.Exists(embeddings)) source.Error(map["item_embeddings"].Value, $"item embedding file not found: {embeddings}");
        string field = map.TryGetValue("item_feature_field", out var ff) ? source.String(ff.Value, "data.item_feature_field") ?? "class" : "class";

        int Core(string key)
        {
            if (!map.TryGetValue(key, out var e)) return 0;
            if (synthetic is not null) source.Error(e.Key, $"data.{key} (k-core filtering) would invalidate the synthetic oracle; use it with data files only");
            return (int)(source.Integer(e.Value, $"data.{key}", 0, 1_000_000) ?? 0);
        }
        return new DataConfig(path, format, synthetic, features, field, embeddings, Core("min_user_interactions"), Core("min_item_interactions"),
            DataSplit.LeaveOneOut);
    }

    private static SyntheticConfig? ParseSynthetic(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "data.synthetic", SyntheticConfig.Keys);
        if (map is null) return null;
        var d = SyntheticConfig.Default;
        long Int(string key, long fallback, long min, long max) =>
            map.TryGetValue(key, out var e) ? source.Integer(e.Value, $"data.synthetic.{key}", min, max) ?? fallback : fallback;
        double Num(string key, double fallback, double min, double max) =>
            map.TryGetValue(key, out var e) ? source.Number(e.Value, $"data.synthetic.{key}", min, max) ?? fallback : fallback;
        var config = new SyntheticConfig(
            Users: (int)Int("users", d.Users, 1, 10_000_000),
            Items: (int)Int("items", d.Items, 10, 10_000_000),
            Clusters: (int)Int("clusters", d.Clusters, 1, 100_000),
            MinLength: (int)Int("min_length", d.MinLength, 3, 100_000),
            MaxLength: (int)Int("max_length", d.MaxLength, 3, 100_000),
            MarkovWeight: Num("markov_weight", d.MarkovWeight, 0, 1),
            Seed: (int)Int("seed", d.Seed, 0, int.MaxValue));
        foreach (var problem in config.Problems())
            source.Error(node, $"data.synthetic: {problem}");
        return config;
    }

    private static EvaluationConfig DefaultEvaluation() =>
        new(EvalProtocol.Full, 100, [5, 10, 20], [MetricKind.Hr, MetricKind.Ndcg, MetricKind.Mrr]);

    private static EvaluationConfig? ParseEvaluation(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "evaluation", EvaluationKeys);
        if (map is null) return null;
        var d = DefaultEvaluation();
        var protocol = map.TryGetValue("protocol", out var p) ? source.Choice(p.Value, "evaluation.protocol", Protocols) ?? d.Protocol : d.Protocol;
        int negatives = map.TryGetValue("sampled_negatives", out var sn) ? (int)(source.Integer(sn.Value, "evaluation.sampled_negatives", 1, 100_000) ?? 100) : 100;
        if (map.ContainsKey("sampled_negatives") && protocol != EvalProtocol.Sampled)
            source.Error(map["sampled_negatives"].Key, "evaluation.sampled_negatives applies only to protocol: sampled");
        var cutoffs = d.Cutoffs.ToList();
        if (map.TryGetValue("cutoffs", out var c) && source.Sequence(c.Value, "evaluation.cutoffs") is { } list)
            cutoffs = [.. list.Select(x => (int)(source.Integer(x, "a cutoff", 1, 100_000) ?? 0)).Where(x => x > 0).Distinct().Order()];
        var metrics = d.Metrics.ToList();
        if (map.TryGetValue("metrics", out var m) && source.Sequence(m.Value, "evaluation.metrics") is { } names)
        {
            metrics = [];
            foreach (var item in names)
            {
                var text = source.String(item, "a metric") ?? "";
                if (MetricName.TryParseKind(text, out var kind)) { if (!metrics.Contains(kind)) metrics.Add(kind); }
                else source.Error(item, $"unknown metric '{text}'; {Suggestions.DidYouMean(text, MetricName.KindNames)}");
            }
        }
        return new EvaluationConfig(protocol, negatives, cutoffs, metrics);
    }

    private static Objective? ParseObjective(YamlSource source, YamlNode node, EvaluationConfig? evaluation)
    {
        var map = source.Mapping(node, "objective", ObjectiveKeys);
        if (map is null) return null;
        if (!map.TryGetValue("metric", out var m)) { source.Error(node, "objective needs 'metric', e.g. ndcg@10"); return null; }
        var metric = source.String(m.Value, "objective.metric");
        if (metric is null) return null;
        if (!MetricName.TryParse(metric, out _, out _))
        {
            source.Error(m.Value, $"objective metric '{metric}' is not a metric name like ndcg@10 ({string.Join(", ", MetricName.KindNames)} @ a cutoff)");
            return null;
        }
        bool maximize = !map.TryGetValue("mode", out var mode) || (source.Choice(mode.Value, "objective.mode", Modes) ?? true);
        return new Objective(metric.ToLowerInvariant(), maximize);
    }

    private static List<ModelSpace>? ParseModels(YamlSource source, YamlNode node, DataConfig data, bool sweep)
    {
        var map = source.Mapping(node, "models", ModelCatalog.Models);
        if (map is null) return null;
        if (map.Count == 0 && node is YamlMappingNode { Children.Count: 0 }) source.Error(node, "models is empty; name one of: " + string.Join(", ", ModelCatalog.Models));
        var models = new List<ModelSpace>();
        foreach (var (modelName, (_, paramsNode)) in map)
        {
            var specs = ModelCatalog.ParamsOf(modelName).ToDictionary(s => s.Name);
            var space = new Dictionary<string, Domain>(StringComparer.Ordinal);
            var positions = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
            var aliases = ModelCatalog.Aliases(modelName);
            var entries = paramsNode is YamlScalarNode { Value: null or "" or "~" } ? [] : source.Mapping(paramsNode, $"models.{modelName}", [.. specs.Keys, .. aliases.Keys]);
            if (entries is null) continue;
            int errorsBefore = source.Errors.Count;
            foreach (var (written, (key, value)) in entries)
            {
                var param = aliases.GetValueOrDefault(written, written);
                if (param != written && entries.ContainsKey(param))
                {
                    source.Error(key, $"'{written}' is another name for '{param}', which is also set: write one of them");
                    continue;
                }
                positions[param] = key;
                if (!sweep && value is not YamlScalarNode)
                    source.Error(value, $"'{param}' must be a fixed value in a train config (one trial); search spaces need reccluster sweep");
                else if (DomainParser.Parse(source, specs[param], value) is { } domain) space[param] = domain;
            }
            if (source.Errors.Count != errorsBefore) continue;
            var model = new ModelSpace(modelName, space);
            foreach (var (param, message) in DomainParser.CrossCheck(model, data))
                if (positions.TryGetValue(param, out var at)) source.Error(at, message); else source.Error(paramsNode, message);
            models.Add(model);
        }
        return models;
    }
}
