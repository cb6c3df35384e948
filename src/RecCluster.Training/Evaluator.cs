using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;
using RecCluster.Training.Models;
using RecCluster.Training.Torch;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>
/// Batched next-item evaluation. Full protocol: the target is ranked among all items with the user's
/// history excluded. Sampled protocol (SASRec paper): the target is ranked among itself and N items drawn
/// uniformly from those the user has not interacted with. Ties count as half above the target
/// (the expected position under random tie-breaking, rounded down).
/// </summary>
public sealed class Evaluator(SequenceDataset data, EvaluationConfig config, int maxLength, int batchSize, Device device, int seed)
{
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
            var targets = new long[batch.Length];
            for (int row = 0; row < batch.Length; row++) targets[row] = data.Target(batch[row], split);
            var userIds = tensor(batch.ToArray().Select(u => (long)u).ToArray()).to(device);
            var ranks = config.Protocol == EvalProtocol.Full
                ? FullRanks(model, inputs, lengths, userIds, batch, split, targets)
                : SampledRanks(model, inputs, lengths, userIds, batch, split, targets, negativeRandom);
            foreach (var rank in ranks.cpu().data<long>()) accumulator.AddUser(rank);
        }
        return accumulator.Result();
    }

    private Tensor FullRanks(SequentialRecommender model, Tensor inputs, Tensor lengths, Tensor userIds, ReadOnlySpan<int> users, Split split, long[] targets)
    {
        var scores = model.FullScores(inputs, lengths, userIds).to_type(ScalarType.Float32).clone();
        long width = scores.shape[1];
        var target = tensor(targets, [targets.Length, 1]).to(device);
        var targetScores = scores.gather(1, target);
        // Exclude padding and every item the user has seen, then put the target back (it may repeat).
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

    private Tensor SampledRanks(SequentialRecommender model, Tensor inputs, Tensor lengths, Tensor userIds, ReadOnlySpan<int> users, Split split, long[] targets, Random random)
    {
        int n = config.SampledNegatives;
        var candidates = new long[users.Length * (n + 1)];
        for (int row = 0; row < users.Length; row++)
        {
            var seen = new HashSet<int>(data.History(users[row], split).ToArray()) { (int)targets[row] };
            if (data.ItemCount - seen.Count < n)
                throw new InvalidOperationException($"sampled evaluation needs {n} unseen items per user, but a user has only {data.ItemCount - seen.Count}");
            candidates[row * (n + 1)] = targets[row];
            for (int k = 1; k <= n; k++)
            {
                int item;
                do item = random.Next(1, data.ItemCount + 1); while (!seen.Add(item));
                candidates[row * (n + 1) + k] = item;
            }
        }
        var scores = model.CandidateScores(inputs, lengths, tensor(candidates, [users.Length, n + 1]).to(device), userIds).to_type(ScalarType.Float32);
        return RanksOf(scores, scores.narrow(1, 0, 1));
    }

    private static Tensor RanksOf(Tensor scores, Tensor targetScores)
    {
        var above = scores.gt(targetScores).sum(1);
        var ties = scores.eq(targetScores).sum(1).sub(Held.One);
        return above.Plus(ties.div(Held.Of(2L), rounding_mode: RoundingMode.floor));
    }
}
