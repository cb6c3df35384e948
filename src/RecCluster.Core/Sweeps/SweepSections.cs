using System.Globalization;
using RecCluster.Core.Config;
using YamlDotNet.RepresentationModel;

namespace RecCluster.Core.Sweeps;

/// <summary>The sweep-only sections of a config file: search, scheduler, resources and limits.</summary>
public sealed record SweepSections(SearchConfig Search, SchedulerConfig Scheduler, ResourcesConfig Resources,
    int MaxConcurrentTrials, int MaxFailures, double? TimeBudgetSeconds)
{
    public static readonly IReadOnlyList<string> Keys = ["search", "scheduler", "resources", "max_concurrent_trials", "max_failures", "time_budget"];

    public static readonly SweepSections Defaults = new(new SearchConfig(SearchAlgorithm.Grid, 1, 0), new SchedulerConfig(SchedulerKind.Fifo),
        new ResourcesConfig(0, 1), 0, 1, null);

    private static readonly Dictionary<string, SearchAlgorithm> Algorithms = new() { ["grid"] = SearchAlgorithm.Grid, ["random"] = SearchAlgorithm.Random, ["tpe"] = SearchAlgorithm.Tpe };
    private static readonly Dictionary<string, SchedulerKind> Schedulers = new() { ["fifo"] = SchedulerKind.Fifo, ["asha"] = SchedulerKind.Asha, ["median"] = SchedulerKind.Median };

    public static SweepSections? Parse(YamlSource source, Dictionary<string, (YamlNode Key, YamlNode Value)> top, YamlNode root)
    {
        int before = source.Errors.Count;
        var d = Defaults;
        var search = top.TryGetValue("search", out var s) ? ParseSearch(source, s.Value) : d.Search;
        var scheduler = top.TryGetValue("scheduler", out var sc) ? ParseScheduler(source, sc.Value) : d.Scheduler;
        var resources = top.TryGetValue("resources", out var r) ? ParseResources(source, r.Value) : d.Resources;
        int concurrent = top.TryGetValue("max_concurrent_trials", out var c) ? (int)(source.Integer(c.Value, "max_concurrent_trials", 0, 100_000) ?? 0) : 0;
        int failures = top.TryGetValue("max_failures", out var f) ? (int)(source.Integer(f.Value, "max_failures", 0, 1000) ?? 1) : 1;
        double? budget = top.TryGetValue("time_budget", out var t) ? ParseDuration(source, t.Value) : null;
        return source.Errors.Count == before && search is not null && scheduler is not null && resources is not null
            ? new SweepSections(search, scheduler, resources, concurrent, failures, budget) : null;
    }

    private static SearchConfig? ParseSearch(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "search", ["algorithm", "num_trials", "seed"]);
        if (map is null) return null;
        var algorithm = map.TryGetValue("algorithm", out var a) ? source.Choice(a.Value, "search.algorithm", Algorithms) ?? SearchAlgorithm.Grid : SearchAlgorithm.Grid;
        int fallback = algorithm switch { SearchAlgorithm.Grid => 1, SearchAlgorithm.Random => 10, _ => 20 };
        int trials = map.TryGetValue("num_trials", out var n) ? (int)(source.Integer(n.Value, "search.num_trials", 1, 1_000_000) ?? fallback) : fallback;
        int seed = map.TryGetValue("seed", out var sd) ? (int)(source.Integer(sd.Value, "search.seed", 0, int.MaxValue) ?? 0) : 0;
        return new SearchConfig(algorithm, trials, seed);
    }

    private static SchedulerConfig? ParseScheduler(YamlSource source, YamlNode node)
    {
        if (node is YamlScalarNode)
            return source.Choice(node, "scheduler", Schedulers) is { } kind ? new SchedulerConfig(kind) : null;
        var outer = source.Mapping(node, "scheduler", Schedulers.Keys);
        if (outer is null) return null;
        if (outer.Count != 1) { if (outer.Count > 1) source.Error(node, "scheduler names one of fifo, asha, median"); return null; }
        var (name, (_, body)) = outer.Single();
        var kindValue = Schedulers[name];
        string[] keys = kindValue switch
        {
            SchedulerKind.Asha => ["grace_period", "reduction_factor", "max_t"],
            SchedulerKind.Median => ["grace_period", "min_samples"],
            _ => [],
        };
        var map = body is YamlScalarNode { Value: null or "" or "~" } ? [] : source.Mapping(body, $"scheduler.{name}", keys);
        if (map is null) return null;
        var d = new SchedulerConfig(kindValue);
        int grace = map.TryGetValue("grace_period", out var g) ? (int)(source.Integer(g.Value, "grace_period", 1, 100_000) ?? 1) : d.GracePeriod;
        double factor = map.TryGetValue("reduction_factor", out var rf) ? source.Number(rf.Value, "reduction_factor", 1.01, 1000) ?? 3 : d.ReductionFactor;
        int maxT = map.TryGetValue("max_t", out var mt) ? (int)(source.Integer(mt.Value, "max_t", 1, 1_000_000) ?? 100) : d.MaxT;
        int minSamples = map.TryGetValue("min_samples", out var ms) ? (int)(source.Integer(ms.Value, "min_samples", 1, 100_000) ?? 3) : d.MinSamples;
        if (kindValue == SchedulerKind.Asha && grace >= maxT && map.ContainsKey("max_t"))
            source.Error(map["max_t"].Value, $"max_t ({maxT}) must exceed grace_period ({grace})");
        return new SchedulerConfig(kindValue, grace, factor, maxT, minSamples);
    }

    private static ResourcesConfig? ParseResources(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "resources", ["gpus_per_trial", "cpus_per_trial"]);
        if (map is null) return null;
        double gpus = map.TryGetValue("gpus_per_trial", out var g) ? source.Number(g.Value, "resources.gpus_per_trial", 0, 64) ?? 0 : 0;
        if (gpus > 1 && gpus != Math.Floor(gpus)) source.Error(map["gpus_per_trial"].Value, "gpus_per_trial above 1 must be a whole number of GPUs");
        int cpus = map.TryGetValue("cpus_per_trial", out var c) ? (int)(source.Integer(c.Value, "resources.cpus_per_trial", 1, 1024) ?? 1) : 1;
        return new ResourcesConfig(gpus, cpus);
    }

    /// <summary>Seconds, or a number with an s, m or h suffix ("90m", "2h").</summary>
    private static double? ParseDuration(YamlSource source, YamlNode node)
    {
        var text = source.String(node, "time_budget");
        if (text is null) return null;
        double factor = text.EndsWith('h') ? 3600 : text.EndsWith('m') ? 60 : 1;
        var digits = char.IsLetter(text[^1]) && text[^1] is 'h' or 'm' or 's' ? text[..^1] : text;
        if (double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0) return v * factor;
        source.Error(node, $"time_budget '{text}' is not a duration such as 3600, 90m or 2h");
        return null;
    }
}
