using RecCluster.Core.Evaluation;

namespace RecCluster.Core.Data;

/// <summary>
/// Generates sequences whose next item mixes short-term and long-term structure, with a known
/// next-item distribution:
/// <c>p(j | user, history) ∝ [α·T(last, j) + (1−α)·Σ_c θ_user(c)·w_c(j)]</c> over items not yet in the history.
/// T sends each item to three successors with probabilities 0.6/0.3/0.1 (what came last); θ_user puts 0.75 on a
/// primary and 0.25 on a secondary cluster of items (the user's taste); w_c is Zipf-like inside a cluster,
/// so popularity also carries signal. Items never repeat within a sequence, which matches full-ranking
/// evaluation with seen items excluded. Knowing p exactly gives the Bayes-optimal (oracle) metrics.
/// </summary>
public sealed class SyntheticGenerator
{
    private static readonly double[] SuccessorProbabilities = [0.6, 0.3, 0.1];
    private readonly SyntheticConfig _config;
    private readonly int[][] _successors;
    private readonly double[][] _clusterWeights;   // [cluster][item]
    private readonly (int Primary, int Secondary)[] _tastes;

    public SyntheticGenerator(SyntheticConfig config)
    {
        if (config.Problems().FirstOrDefault() is { } problem) throw new ArgumentException(problem);
        _config = config;
        var random = new Random(config.Seed);
        int n = config.Items, c = config.Clusters;

        var order = Enumerable.Range(1, n).ToArray();
        random.Shuffle(order);
        _clusterWeights = new double[c][];
        for (int k = 0; k < c; k++) _clusterWeights[k] = new double[n + 1];
        var members = new int[c];
        for (int index = 0; index < n; index++)
        {
            int cluster = index % c;
            _clusterWeights[cluster][order[index]] = 1 / Math.Pow(++members[cluster], 0.8);
        }
        foreach (var weights in _clusterWeights)
        {
            double total = weights.Sum();
            for (int i = 0; i < weights.Length; i++) weights[i] /= total;
        }

        _successors = new int[n + 1][];
        for (int i = 1; i <= n; i++)
        {
            var chosen = new List<int>(3);
            while (chosen.Count < 3)
            {
                int j = random.Next(1, n + 1);
                if (j != i && !chosen.Contains(j)) chosen.Add(j);
            }
            _successors[i] = [.. chosen];
        }

        _tastes = new (int, int)[config.Users];
        for (int u = 0; u < config.Users; u++)
        {
            int primary = random.Next(c);
            int secondary = c == 1 ? primary : (primary + 1 + random.Next(c - 1)) % c;
            _tastes[u] = (primary, secondary);
        }

        var sequences = new List<int[]>(config.Users);
        for (int u = 0; u < config.Users; u++)
        {
            int length = random.Next(config.MinLength, config.MaxLength + 1);
            var sequence = new List<int>(length);
            for (int t = 0; t < length; t++)
                sequence.Add(Sample(NextDistribution(u, sequence.ToArray()), random));
            sequences.Add([.. sequence]);
        }
        var tokens = new List<string> { "[PAD]" };
        tokens.AddRange(Enumerable.Range(1, n).Select(i => i.ToString()));
        Dataset = new SequenceDataset("synthetic", sequences, tokens, [.. Enumerable.Range(1, config.Users).Select(u => u.ToString())]);
        if (!Dataset.HasTrainingTransition) throw SequenceDataset.NothingToTrain("data.synthetic", DataSplit.LeaveOneOut);
    }

    public SequenceDataset Dataset { get; }

    /// <summary>The exact distribution of the next item (index = item id; 0 and seen items have 0).</summary>
    public double[] NextDistribution(int user, ReadOnlySpan<int> history)
    {
        int n = _config.Items;
        var p = new double[n + 1];
        var (primary, secondary) = _tastes[user];
        double alpha = history.Length == 0 ? 0 : _config.MarkovWeight;
        for (int j = 1; j <= n; j++)
            p[j] = (1 - alpha) * (0.75 * _clusterWeights[primary][j] + 0.25 * _clusterWeights[secondary][j]);
        if (_config.Clusters == 1) for (int j = 1; j <= n; j++) p[j] = (1 - alpha) * _clusterWeights[0][j];
        if (history.Length > 0)
        {
            var successors = _successors[history[^1]];
            for (int s = 0; s < successors.Length; s++) p[successors[s]] += alpha * SuccessorProbabilities[s];
        }
        foreach (var seen in history) p[seen] = 0;
        double total = p.Sum();
        if (total <= 0)
        {
            // All the mass fell on seen items: fall back to uniform over unseen ones.
            for (int j = 1; j <= n; j++) p[j] = 1;
            foreach (var seen in history) p[seen] = 0;
            total = p.Sum();
        }
        for (int j = 0; j <= n; j++) p[j] /= total;
        return p;
    }

    /// <summary>
    /// Expected metrics of the Bayes-optimal ranker (items sorted by their true probability, seen items
    /// excluded) for the given split, averaged over all users: the ceiling any model can reach.
    /// </summary>
    public IReadOnlyDictionary<string, double> OracleMetrics(Split split, IReadOnlyList<MetricKind> kinds, IReadOnlyList<int> cutoffs)
    {
        var accumulator = new MetricAccumulator(kinds, cutoffs);
        for (int u = 0; u < Dataset.UserCount; u++)
        {
            var p = NextDistribution(u, Dataset.History(u, split));
            var ranked = p.Where(x => x > 0).OrderDescending().ToArray();
            for (int r = 0; r < ranked.Length; r++) accumulator.Add(r, ranked[r]);
            accumulator.CompleteUser();
        }
        return accumulator.Result();
    }

    private static int Sample(double[] p, Random random)
    {
        double x = random.NextDouble(), cumulative = 0;
        int last = 0;
        for (int j = 1; j < p.Length; j++)
        {
            if (p[j] <= 0) continue;
            cumulative += p[j];
            last = j;
            if (x < cumulative) return j;
        }
        return last;
    }
}
