using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;
using RecCluster.Training.Models;
using RecCluster.Training.Torch;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>
/// Batched evaluation of a split's held-out items (one a user under leave-one-out, the latest share under temporal
/// holdout). Full protocol: the targets are ranked among all items with the user's history excluded. Sampled protocol
/// (SASRec paper): among themselves and N items drawn uniformly from those the user has not interacted with. A target's
/// position counts the items above it (other targets included) and half its ties (the expected position under random
/// tie-breaking, rounded down).
/// </summary>
public sealed class Evaluator(SequenceDataset data, EvaluationConfig config, int maxLength, int batchSize, Device device, int seed)
{
    /// <summary>Score comparisons held at once when ranking many targets a user (a few hundred MB of booleans at most).</summary>
    private const long MaxComparisons = 1L << 25;

    public IReadOnlyDictionary<string, double> Evaluate(SequentialRecommender model, Split split)
    {
        var accumulator = new MetricAccumulator(config.Metrics, config.Cutoffs);
        var negativeRandom = new Random(unchecked(seed * 2 + (int)split)); // stable across processes, unlike HashCode
        // Users of similar history length share a batch, so little work goes to padding.
        var users = Enumerable.Range(0, data.UserCount).OrderBy(u => data.History(u, split).Length).ToArray();
        model.eval();
        using var noGrad = no_grad();
        for (int start = 0; start < users.Length; start += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = users.AsSpan(start, Math.Min(batchSize, users.Length - start));
            var (inputs, lengths) = SequenceBatches.History(data, batch, split, maxLength, device);
            var targets = TargetRows.Of(data, batch, split);
            var userIds = tensor(batch.ToArray().Select(u => (long)u).ToArray()).to(device);
            var ranks = config.Protocol == EvalProtocol.Full
                ? FullRanks(model, inputs, lengths, userIds, batch, split, targets)
                : SampledRanks(model, inputs, lengths, userIds, batch, split, targets, negativeRandom);
            var flat = ranks.cpu().data<long>().ToArray();
            for (int row = 0; row < batch.Length; row++)
                accumulator.AddUser(RankingMetrics.ListPositions(flat.AsSpan(row * targets.Width, targets.Counts[row]).ToArray()));
        }
        return accumulator.Result();
    }

    /// <summary>Each user's distinct targets, one row each, padded with item 0 to the widest row.</summary>
    private sealed record TargetRows(long[] Items, int[] Counts, int Width)
    {
        public static TargetRows Of(SequenceDataset data, ReadOnlySpan<int> users, Split split)
        {
            var rows = new int[users.Length][];
            for (int row = 0; row < users.Length; row++) rows[row] = [.. data.Targets(users[row], split).ToArray().Distinct()];
            int width = rows.Max(r => r.Length);
            var items = new long[users.Length * width];
            for (int row = 0; row < rows.Length; row++)
                for (int k = 0; k < rows[row].Length; k++) items[row * width + k] = rows[row][k];
            return new TargetRows(items, [.. rows.Select(r => r.Length)], width);
        }

        /// <summary>True where a row is padded beyond its targets.</summary>
        public Tensor Padding(Device device)
        {
            var padded = new bool[Items.Length];
            for (int row = 0; row < Counts.Length; row++)
                for (int k = Counts[row]; k < Width; k++) padded[row * Width + k] = true;
            return tensor(padded, [Counts.Length, Width]).to(device);
        }
    }

    private Tensor FullRanks(SequentialRecommender model, Tensor inputs, Tensor lengths, Tensor userIds, ReadOnlySpan<int> users, Split split,
        TargetRows targets)
    {
        var scores = model.FullScores(inputs, lengths, userIds).to_type(ScalarType.Float32).clone();
        long width = scores.shape[1];
        var target = tensor(targets.Items, [users.Length, targets.Width]).to(device);
        // Padding slots point at item 0, which stays excluded.
        var targetScores = scores.gather(1, target).masked_fill(targets.Padding(device), Held.Of(double.NegativeInfinity));
        // Exclude padding and every item the user has seen, then put the targets back (one may repeat a seen item).
        var excluded = new List<long>();
        for (int row = 0; row < users.Length; row++)
        {
            excluded.Add(row * width);
            foreach (var item in data.History(users[row], split)) excluded.Add(row * width + item);
        }
        scores.view(-1).index_fill_(0, tensor(excluded.ToArray()).to(device), Held.Of(double.NegativeInfinity));
        scores.scatter_(1, target, targetScores);
        return RanksOf(scores, targetScores);
    }

    private Tensor SampledRanks(SequentialRecommender model, Tensor inputs, Tensor lengths, Tensor userIds, ReadOnlySpan<int> users,
        Split split, TargetRows targets, Random random)
    {
        int n = config.SampledNegatives, width = targets.Width + n;
        var candidates = new long[users.Length * width];
        for (int row = 0; row < users.Length; row++)
        {
            var seen = new HashSet<int>(data.History(users[row], split).ToArray());
            for (int k = 0; k < targets.Width; k++)
            {
                long item = targets.Items[row * targets.Width + k];
                candidates[row * width + k] = item;
                if (k < targets.Counts[row]) seen.Add((int)item);
            }
            if (data.ItemCount - seen.Count < n)
                throw new InvalidOperationException($"sampled evaluation needs {n} unseen items per user, but a user has only {data.ItemCount - seen.Count}");
            for (int k = targets.Width; k < width; k++)
            {
                int item;
                do item = random.Next(1, data.ItemCount + 1); while (!seen.Add(item));
                candidates[row * width + k] = item;
            }
        }
        var scores = model.CandidateScores(inputs, lengths, tensor(candidates, [users.Length, width]).to(device), userIds).to_type(ScalarType.Float32);
        var padding = cat([targets.Padding(device), zeros(users.Length, n, ScalarType.Bool, device)], 1);
        scores = scores.masked_fill(padding, Held.Of(double.NegativeInfinity));
        return RanksOf(scores, scores.narrow(1, 0, targets.Width));
    }

    /// <summary>For each target score, the scores above it plus half its other ties: [users, targets].</summary>
    private static Tensor RanksOf(Tensor scores, Tensor targetScores)
    {
        long users = scores.shape[0], width = scores.shape[1], targets = targetScores.shape[1];
        long chunk = Math.Max(1, MaxComparisons / Math.Max(1, users * width));
        var parts = new List<Tensor>();
        for (long start = 0; start < targets; start += chunk)
        {
            var target = targetScores.narrow(1, start, Math.Min(chunk, targets - start)).unsqueeze(2);
            var row = scores.unsqueeze(1);
            var above = row.gt(target).sum(2);
            var ties = row.eq(target).sum(2).sub(Held.One);
            parts.Add(above.Plus(ties.div(Held.Of(2L), rounding_mode: RoundingMode.floor)));
        }
        return parts.Count == 1 ? parts[0] : cat(parts, 1);
    }
}
