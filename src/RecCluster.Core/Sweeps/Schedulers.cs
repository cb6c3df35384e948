namespace RecCluster.Core.Sweeps;

/// <summary>Continue; Prune: stop, the trial is not promising; Complete: stop, the trial has had its budget (max_t).</summary>
public enum TrialDecision { Continue, Prune, Complete }

/// <summary>
/// Decides on intermediate results whether a trial goes on. Scores are oriented so that higher is better;
/// <c>epoch</c> counts training epochs done when the score was measured.
/// </summary>
public interface ITrialScheduler
{
    TrialDecision OnResult(string trial, int epoch, double score);
}

public static class TrialSchedulers
{
    public static ITrialScheduler Create(SchedulerConfig config) => config.Kind switch
    {
        SchedulerKind.Fifo => new FifoScheduler(),
        SchedulerKind.Asha => new AshaScheduler(config.GracePeriod, config.ReductionFactor, config.MaxT),
        SchedulerKind.Median => new MedianStoppingScheduler(config.GracePeriod, config.MinSamples),
        _ => throw new ArgumentOutOfRangeException(nameof(config)),
    };

    /// <summary>Linear-interpolated percentile (numpy's default), p in [0, 100].</summary>
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        double rank = p / 100 * (sorted.Length - 1);
        int below = (int)Math.Floor(rank), above = (int)Math.Ceiling(rank);
        return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
    }
}

/// <summary>Every trial runs to its own n_epochs.</summary>
public sealed class FifoScheduler : ITrialScheduler
{
    public TrialDecision OnResult(string trial, int epoch, double score) => TrialDecision.Continue;
}

/// <summary>
/// Asynchronous successive halving (Li et al., MLSys 2020, as in Ray Tune): rungs at
/// grace_period · reduction_factor^k epochs below max_t. When a trial first reaches a rung it continues only
/// if its score is at least the (1 − 1/reduction_factor) quantile of the scores recorded there before it,
/// so roughly the top 1/reduction_factor go on. Trials end (completed) at max_t epochs.
/// </summary>
public sealed class AshaScheduler : ITrialScheduler
{
    private readonly double _factor;
    private readonly int _maxT;
    private readonly List<(int Milestone, Dictionary<string, double> Recorded)> _rungs = [];

    public AshaScheduler(int gracePeriod, double reductionFactor, int maxT)
    {
        _factor = reductionFactor;
        _maxT = maxT;
        for (double m = gracePeriod; m < maxT; m *= reductionFactor) _rungs.Add(((int)Math.Round(m), new Dictionary<string, double>()));
        _rungs.Reverse();   // highest rung first
    }

    public IEnumerable<int> Milestones => _rungs.Select(r => r.Milestone).Reverse();

    public TrialDecision OnResult(string trial, int epoch, double score)
    {
        if (epoch >= _maxT) return TrialDecision.Complete;
        foreach (var (milestone, recorded) in _rungs)
        {
            if (epoch < milestone || recorded.ContainsKey(trial)) continue;
            double? cutoff = recorded.Count == 0 ? null : TrialSchedulers.Percentile([.. recorded.Values], (1 - 1 / _factor) * 100);
            recorded[trial] = score;
            return cutoff is { } c && score < c ? TrialDecision.Prune : TrialDecision.Continue;
        }
        return TrialDecision.Continue;
    }
}

/// <summary>
/// Median stopping rule (Golovin et al., KDD 2017): after grace_period epochs, a trial whose best score so
/// far is below the median of the other trials' running mean scores at the same epoch is stopped, once at
/// least min_samples other trials have reported by then.
/// </summary>
public sealed class MedianStoppingScheduler(int gracePeriod, int minSamples) : ITrialScheduler
{
    private readonly Dictionary<string, List<(int Epoch, double Score)>> _history = [];

    public TrialDecision OnResult(string trial, int epoch, double score)
    {
        if (!_history.TryGetValue(trial, out var own)) _history[trial] = own = [];
        own.Add((epoch, score));
        if (epoch < gracePeriod) return TrialDecision.Continue;
        var means = _history.Where(kv => kv.Key != trial)
            .Select(kv => kv.Value.Where(r => r.Epoch <= epoch).Select(r => r.Score).ToList())
            .Where(scores => scores.Count > 0)
            .Select(scores => scores.Average())
            .ToList();
        if (means.Count < minSamples) return TrialDecision.Continue;
        return own.Max(r => r.Score) < TrialSchedulers.Percentile(means, 50) ? TrialDecision.Prune : TrialDecision.Continue;
    }
}
