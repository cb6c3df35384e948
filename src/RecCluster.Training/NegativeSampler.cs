using RecCluster.Core.Data;
using static TorchSharp.torch;

namespace RecCluster.Training;

public enum SampleStrategy { Uniform, Popularity }

/// <summary>
/// Draws training negatives for each next-item target, as the SASRec reference does: items the user has not
/// interacted with in training (never the target itself), uniformly or in proportion to training popularity.
/// Drawn on the CPU from the epoch's seeded <see cref="Random"/>, so a run is reproducible on any device.
/// </summary>
public sealed class NegativeSampler
{
    // A user whose history covers nearly every item would make rejection sampling crawl: after this many
    // rejections a draw only has to differ from the target.
    private const int MaxRejections = 64;

    private readonly int _itemCount;
    private readonly double[]? _cumulative;

    private NegativeSampler(int itemCount, double[]? cumulative) => (_itemCount, _cumulative) = (itemCount, cumulative);

    public static NegativeSampler Create(SampleStrategy strategy, long[] trainCounts)
    {
        int items = trainCounts.Length - 1;
        if (items < 2) throw new ArgumentException($"sampling negatives needs at least two items, the data has {items}");
        if (strategy == SampleStrategy.Uniform) return new NegativeSampler(items, null);
        var cumulative = new double[items];
        double total = 0;
        for (int i = 0; i < items; i++) cumulative[i] = total += trainCounts[i + 1];
        return new NegativeSampler(items, cumulative);
    }

    /// <summary>
    /// Negatives for the non-padding targets of a batch (row-major, as the loss reads them): M x <paramref name="perPositive"/>.
    /// </summary>
    public Tensor Sample(SequenceDataset data, ReadOnlySpan<int> users, TrainingRows rows, int perPositive, Random random, Device device)
    {
        var targets = rows.Targets.cpu().data<long>().ToArray();
        int width = (int)rows.Targets.shape[1];
        var negatives = new long[rows.Positions * perPositive];
        int next = 0;
        for (int row = 0; row < users.Length; row++)
        {
            HashSet<int>? seen = null;
            for (int t = 0; t < width; t++)
            {
                long target = targets[row * width + t];
                if (target == 0) continue;
                seen ??= [.. data.TrainItems(users[row])];
                for (int k = 0; k < perPositive; k++) negatives[next++] = Draw(seen, target, random);
            }
        }
        return tensor(negatives, [rows.Positions, perPositive]).to(device);
    }

    private long Draw(HashSet<int> seen, long target, Random random)
    {
        for (int attempt = 0; ; attempt++)
        {
            int item = DrawAny(random);
            if (item != target && (attempt >= MaxRejections || !seen.Contains(item))) return item;
        }
    }

    private int DrawAny(Random random)
    {
        if (_cumulative is null) return random.Next(1, _itemCount + 1);
        // The first item whose cumulative count exceeds the draw (an upper bound, so items with no count are never hit).
        double draw = random.NextDouble() * _cumulative[^1];
        int low = 0, high = _cumulative.Length - 1;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_cumulative[middle] > draw) high = middle;
            else low = middle + 1;
        }
        return low + 1;
    }
}
