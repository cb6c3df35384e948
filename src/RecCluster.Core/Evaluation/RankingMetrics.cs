namespace RecCluster.Core.Evaluation;

/// <summary>
/// Next-item metrics from the 0-based rank of the single held-out item among the candidates.
/// With one relevant item, recall@K equals hit-rate@K and precision@K is hit-rate@K / K.
/// </summary>
public static class RankingMetrics
{
    public static double Value(MetricKind kind, int cutoff, long rank)
    {
        if (rank < 0) throw new ArgumentOutOfRangeException(nameof(rank));
        if (rank >= cutoff) return 0;
        return kind switch
        {
            MetricKind.Hr or MetricKind.Recall => 1,
            MetricKind.Ndcg => 1 / Math.Log2(rank + 2),
            MetricKind.Mrr => 1.0 / (rank + 1),
            MetricKind.Precision => 1.0 / cutoff,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }
}

/// <summary>Averages metrics over users; each user adds one rank, or a distribution over ranks.</summary>
public sealed class MetricAccumulator(IReadOnlyList<MetricKind> kinds, IReadOnlyList<int> cutoffs)
{
    private readonly double[,] _sums = new double[kinds.Count, cutoffs.Count];
    private double _weight;

    public int Users { get; private set; }

    public void Add(long rank) => Add(rank, 1.0);

    /// <summary>Adds a rank with a probability weight (used for the oracle's expected metrics).</summary>
    public void Add(long rank, double weight)
    {
        for (int k = 0; k < kinds.Count; k++)
        for (int c = 0; c < cutoffs.Count; c++)
            _sums[k, c] += weight * RankingMetrics.Value(kinds[k], cutoffs[c], rank);
    }

    /// <summary>Closes one user whose ranks (weights) added up to one.</summary>
    public void CompleteUser()
    {
        Users++;
        _weight += 1;
    }

    public void AddUser(long rank)
    {
        Add(rank);
        CompleteUser();
    }

    public IReadOnlyDictionary<string, double> Result()
    {
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        for (int k = 0; k < kinds.Count; k++)
        for (int c = 0; c < cutoffs.Count; c++)
            result[MetricName.Format(kinds[k], cutoffs[c])] = _weight == 0 ? 0 : _sums[k, c] / _weight;
        return result;
    }
}
