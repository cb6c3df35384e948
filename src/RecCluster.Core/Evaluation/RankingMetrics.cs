namespace RecCluster.Core.Evaluation;

/// <summary>
/// Ranking metrics from the 0-based positions of a user's held-out items in the ranked list. With one relevant item
/// (leave-one-out), recall@K equals hit-rate@K and precision@K is hit-rate@K / K. With several (temporal holdout), as in
/// WarpRec and RecBole: HR@K is 1 when any is in the top K, precision@K the hits over K, recall@K the hits over the
/// relevant count, NDCG@K binary-relevance DCG over the ideal DCG of min(relevant, K) hits, MRR@K the reciprocal
/// position of the first hit.
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

    /// <param name="positions">The relevant items' positions, ascending and distinct (see <see cref="ListPositions"/>).</param>
    public static double Value(MetricKind kind, int cutoff, IReadOnlyList<long> positions)
    {
        if (positions.Count == 0) throw new ArgumentException("a user needs at least one relevant item", nameof(positions));
        if (positions.Count == 1) return Value(kind, cutoff, positions[0]);
        int hits = positions.Count(p => p < cutoff);
        return kind switch
        {
            MetricKind.Hr => hits > 0 ? 1 : 0,
            MetricKind.Recall => (double)hits / positions.Count,
            MetricKind.Precision => (double)hits / cutoff,
            MetricKind.Ndcg => positions.Where(p => p < cutoff).Sum(p => 1 / Math.Log2(p + 2))
                / Enumerable.Range(0, Math.Min(positions.Count, cutoff)).Sum(i => 1 / Math.Log2(i + 2)),
            MetricKind.Mrr => positions[0] < cutoff ? 1.0 / (positions[0] + 1) : 0,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    /// <summary>
    /// Positions in the ranked list from each relevant item's rank (the items scoring above it, other relevant ones
    /// included, plus half its ties): sorted, and made distinct where ties put two at one position, as a list would.
    /// </summary>
    public static long[] ListPositions(IEnumerable<long> ranks)
    {
        var positions = ranks.Order().ToArray();
        for (int i = 1; i < positions.Length; i++) positions[i] = Math.Max(positions[i], positions[i - 1] + 1);
        return positions;
    }
}

/// <summary>Averages metrics over users; each user adds the positions of their relevant items, or a distribution over ranks.</summary>
public sealed class MetricAccumulator(IReadOnlyList<MetricKind> kinds, IReadOnlyList<int> cutoffs)
{
    private readonly double[,] _sums = new double[kinds.Count, cutoffs.Count];
    private double _weight;

    public int Users { get; private set; }

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

    /// <summary>Adds a user whose relevant items are at these list positions (ascending, distinct; one under leave-one-out).</summary>
    public void AddUser(IReadOnlyList<long> positions)
    {
        for (int k = 0; k < kinds.Count; k++)
        for (int c = 0; c < cutoffs.Count; c++)
            _sums[k, c] += RankingMetrics.Value(kinds[k], cutoffs[c], positions);
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
