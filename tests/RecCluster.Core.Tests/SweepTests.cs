using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Core.Tests;

public class SweepConfigTests : IDisposable
{
    private readonly TempFiles _files = new();
    public void Dispose() => _files.Dispose();

    private const string Data = "data: {synthetic: {users: 50, items: 40, min_length: 5, max_length: 10}}\n";

    private IReadOnlyList<string> ErrorsOf(string yaml) =>
        [.. Assert.Throws<ConfigException>(() => ExperimentLoader.LoadSweep(_files.Write("s.yaml", Data + yaml))).Errors.Select(e => e.ToString())];

    [Fact]
    public void Spaces_and_sweep_sections_parse()
    {
        var sweep = ExperimentLoader.LoadSweep(_files.Write("s.yaml", Data + """
            search: {algorithm: tpe, num_trials: 12, seed: 3}
            scheduler: {asha: {grace_period: 2, reduction_factor: 2, max_t: 16}}
            resources: {gpus_per_trial: 0.25, cpus_per_trial: 2}
            max_concurrent_trials: 4
            max_failures: 2
            time_budget: 90m
            models:
              sasrec:
                hidden_size: [32, 64]
                learning_rate: {loguniform: [0.0001, 0.01]}
                hidden_dropout_prob: {quniform: [0.1, 0.5, 0.1]}
                n_layers: {randint: [1, 4]}
                loss_type: {choice: [CE, bpr]}
                sample_seed: {grid: [1, 2, 3]}
                n_epochs: 5
            """));
        var space = sweep.Models.Single().Space;
        Assert.Equal([32L, 64L], ((CategoricalDomain)space["hidden_size"]).Values);
        Assert.True(((CategoricalDomain)space["hidden_size"]).IsGrid);
        Assert.False(((CategoricalDomain)space["loss_type"]).IsGrid);
        Assert.Equal(["CE", "BPR"], ((CategoricalDomain)space["loss_type"]).Values);
        Assert.Equal(new RangeDomain("loguniform", 0.0001, 0.01), space["learning_rate"]);
        Assert.Equal(new FixedDomain(5L), space["n_epochs"]);
        Assert.Equal(new SearchConfig(SearchAlgorithm.Tpe, 12, 3), sweep.Search);
        Assert.Equal(new SchedulerConfig(SchedulerKind.Asha, 2, 2, 16), sweep.Scheduler);
        Assert.Equal(new ResourcesConfig(0.25, 2), sweep.Resources);
        Assert.Equal((4, 2, 5400.0), (sweep.MaxConcurrentTrials, sweep.MaxFailures, sweep.TimeBudgetSeconds!.Value));
    }

    [Fact]
    public void Impossible_spaces_are_reported_with_positions()
    {
        var errors = ErrorsOf("""
            models:
              sasrec:
                learning_rate: {loguniform: [0, 0.1]}
                hidden_dropout_prob: {uniform: [0.5, 0.1]}
                hidden_act: {choice: []}
                n_layers: {randnt: [1, 3]}
                loss_type: {uniform: [0, 1]}
                batch_size: {grid: [64, -1]}
            """);
        Assert.True(errors.Any(e => e.Contains(":4:33: 'learning_rate': loguniform needs lo > 0")), string.Join("\n", errors));
        Assert.True(errors.Any(e => e.Contains(":5:36: 'hidden_dropout_prob': uniform needs lo < hi")), string.Join("\n", errors));
        Assert.True(errors.Any(e => e.Contains(":6:26: 'hidden_act': an empty choice has nothing to try")), string.Join("\n", errors));
        Assert.True(errors.Any(e => e.Contains(":7:16: unknown search space 'randnt' for 'n_layers'; did you mean 'randint'?")), string.Join("\n", errors));
        Assert.True(errors.Any(e => e.Contains("'loss_type' is categorical")), string.Join("\n", errors));
        Assert.True(errors.Any(e => e.Contains(":9:29: 'batch_size' must be in [1,")), string.Join("\n", errors));
    }

    [Fact]
    public void Cross_field_rules_are_checked_over_reachable_combinations()
    {
        var errors = ErrorsOf("models: {sasrec: {hidden_size: [32, 30], n_heads: 4}}\n");
        Assert.Contains(errors, e => e.Contains("hidden_size (30) must be divisible by n_heads (4) (reachable with hidden_size=30)"));
    }

    [Fact]
    public void Sweep_keys_in_a_train_config_are_rejected()
    {
        var path = _files.Write("t.yaml", Data + "search: {algorithm: random}\nmodels: {pop: {}}\n");
        var errors = Assert.Throws<ConfigException>(() => ExperimentLoader.LoadTrial(path)).Errors;
        Assert.Contains(errors, e => e.Message.Contains("'search' applies to sweeps"));
    }

    [Theory]
    [InlineData("scheduler: {asha: {grace_period: 5, max_t: 5}}", "max_t (5) must exceed grace_period (5)")]
    [InlineData("scheduler: hyperband", "expected one of: fifo, asha, median")]
    [InlineData("search: {algorithm: bayes}", "search.algorithm 'bayes' is not known")]
    [InlineData("resources: {gpus_per_trial: 1.5}", "must be a whole number of GPUs")]
    [InlineData("time_budget: soon", "not a duration")]
    public void Bad_sweep_sections_are_explained(string yaml, string message) =>
        Assert.Contains(ErrorsOf(yaml + "\nmodels: {pop: {}}\n"), e => e.Contains(message));
}

public class SearcherTests
{
    private static ModelSpace Space(params (string Name, Domain Domain)[] domains) =>
        new(ModelCatalog.SasRec, domains.ToDictionary(d => d.Name, d => d.Domain));

    [Fact]
    public void Grid_search_tries_every_combination_per_repeat_and_draws_the_rest()
    {
        var model = Space(("hidden_size", new CategoricalDomain([32L, 64L], true)), ("n_layers", new CategoricalDomain([1L, 2L, 3L], true)),
            ("learning_rate", new RangeDomain("uniform", 0.001, 0.01)));
        var searcher = Searchers.Create([model], new SearchConfig(SearchAlgorithm.Grid, 2, 0));
        var trials = Enumerable.Range(0, 20).Select(_ => searcher.Next()).TakeWhile(t => t is not null).ToList();
        Assert.Equal(12, searcher.Total);
        Assert.Equal(12, trials.Count);
        Assert.Equal(6, trials.Take(6).Select(t => (t!.Params["hidden_size"], t.Params["n_layers"])).Distinct().Count());
        Assert.All(trials, t => Assert.InRange((double)t!.Params["learning_rate"], 0.001, 0.01));
        Assert.Equal(Enumerable.Range(0, 12), trials.Select(t => t!.Index));
    }

    [Fact]
    public void Random_search_is_seeded_and_respects_domains()
    {
        var model = Space(("learning_rate", new RangeDomain("loguniform", 1e-4, 1e-1)), ("n_layers", new RangeDomain("randint", 1, 4)),
            ("hidden_dropout_prob", new RangeDomain("quniform", 0.1, 0.5, 0.1)));
        List<TrialSuggestion> Run(int seed)
        {
            var s = Searchers.Create([model], new SearchConfig(SearchAlgorithm.Random, 200, seed));
            return [.. Enumerable.Range(0, 200).Select(_ => s.Next()!)];
        }
        var a = Run(1);
        Assert.Equal(a.Select(t => t.Params["learning_rate"]), Run(1).Select(t => t.Params["learning_rate"]));
        Assert.NotEqual(a.Select(t => t.Params["learning_rate"]), Run(2).Select(t => t.Params["learning_rate"]));
        Assert.Equal([1L, 2L, 3L], a.Select(t => (long)t.Params["n_layers"]).Distinct().Order());
        Assert.All(a, t => Assert.Contains(Math.Round((double)t.Params["hidden_dropout_prob"], 6), new[] { 0.1, 0.2, 0.3, 0.4, 0.5 }));
        // Log-uniform: about a third of the draws in each decade.
        int lowDecade = a.Count(t => (double)t.Params["learning_rate"] < 1e-3);
        Assert.InRange(lowDecade, 40, 95);
    }

    [Fact]
    public void Tpe_beats_random_search_on_a_known_objective_with_the_same_budget()
    {
        // Optimum at learning_rate 1e-3, dropout 0.3, mask_rate 0.1, hidden_act tanh.
        static double Objective(IReadOnlyDictionary<string, ParamValue> p) =>
            -Math.Pow(Math.Log10((double)p["learning_rate"]) + 3, 2) - 4 * Math.Pow((double)p["hidden_dropout_prob"] - 0.3, 2)
            - 4 * Math.Pow((double)p["mask_rate"] - 0.1, 2) - ((string)p["hidden_act"] == "tanh" ? 0 : 0.3);
        var model = Space(("learning_rate", new RangeDomain("loguniform", 1e-6, 1)), ("hidden_dropout_prob", new RangeDomain("uniform", 0, 0.9)),
            ("mask_rate", new RangeDomain("uniform", 0, 0.9)), ("hidden_act", new CategoricalDomain(["gelu", "relu", "swish", "tanh", "sigmoid"], false)));
        double MeanBest(SearchAlgorithm algorithm)
        {
            double total = 0;
            for (int seed = 0; seed < 20; seed++)
            {
                var searcher = Searchers.Create([model], new SearchConfig(algorithm, 40, seed));
                double best = double.NegativeInfinity;
                while (searcher.Next() is { } trial)
                {
                    double score = Objective(trial.Params);
                    searcher.Observe(trial, score);
                    best = Math.Max(best, score);
                }
                total += best;
            }
            return total / 20;
        }
        double tpe = MeanBest(SearchAlgorithm.Tpe), random = MeanBest(SearchAlgorithm.Random);
        Assert.True(tpe > random + 0.05, $"TPE mean best {tpe:F4} vs random {random:F4}");
    }
}

public class SchedulerTests
{
    [Fact]
    public void Asha_keeps_the_top_fraction_at_each_rung()
    {
        var asha = new AshaScheduler(gracePeriod: 1, reductionFactor: 2, maxT: 8);
        Assert.Equal([1, 2, 4], asha.Milestones);
        Assert.Equal(TrialDecision.Continue, asha.OnResult("a", 1, 0.5));   // first at rung 1: no cutoff yet
        Assert.Equal(TrialDecision.Prune, asha.OnResult("b", 1, 0.4));       // below the median of {0.5}
        Assert.Equal(TrialDecision.Continue, asha.OnResult("c", 1, 0.6));   // above the median of {0.5, 0.4}
        Assert.Equal(TrialDecision.Continue, asha.OnResult("a", 2, 0.7));   // first at rung 2
        Assert.Equal(TrialDecision.Prune, asha.OnResult("c", 2, 0.65));      // below 0.7
        Assert.Equal(TrialDecision.Continue, asha.OnResult("a", 3, 0.1));   // between rungs: no decision
        Assert.Equal(TrialDecision.Complete, asha.OnResult("a", 8, 0.9));   // reached max_t
    }

    [Fact]
    public void Asha_records_a_rung_skipped_between_reports()
    {
        var asha = new AshaScheduler(1, 3, 30);   // rungs 1, 3, 9, 27
        Assert.Equal(TrialDecision.Continue, asha.OnResult("a", 10, 0.8));
        Assert.Equal(TrialDecision.Prune, asha.OnResult("b", 10, 0.2));      // compared at rung 9
    }

    [Fact]
    public void Median_rule_stops_trials_below_the_running_median()
    {
        var median = new MedianStoppingScheduler(gracePeriod: 2, minSamples: 2);
        foreach (var (trial, scores) in new[] { ("a", new[] { 0.5, 0.6 }), ("b", new[] { 0.3, 0.4 }) })
            for (int e = 0; e < scores.Length; e++) median.OnResult(trial, e + 1, scores[e]);
        Assert.Equal(TrialDecision.Continue, median.OnResult("c", 1, 0.1));  // within the grace period
        Assert.Equal(TrialDecision.Prune, median.OnResult("c", 2, 0.2));      // best 0.2 < median(0.55, 0.35) = 0.45
        Assert.Equal(TrialDecision.Continue, median.OnResult("d", 2, 0.5));
        Assert.Equal(0.45, TrialSchedulers.Percentile([0.55, 0.35], 50), 12);
    }

    [Fact]
    public void Fifo_never_stops() => Assert.Equal(TrialDecision.Continue, new FifoScheduler().OnResult("a", 100, -1));
}
