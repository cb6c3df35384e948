using RecCluster.Training.Torch;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>
/// Draws training negatives on the device from torch's seeded generator: uniformly over items 1..N, or in
/// proportion to training popularity. A draw equal to its positive is shifted to the next item id, so a
/// positive is never its own negative.
/// </summary>
public sealed class NegativeSampler(long itemCount, Tensor? popularity)
{
    public static NegativeSampler Create(string strategy, long[] trainCounts, Device device) => strategy switch
    {
        "uniform" => new NegativeSampler(trainCounts.Length - 1, null),
        "popularity" => new NegativeSampler(trainCounts.Length - 1, tensor(trainCounts.Skip(1).Select(c => (float)c).ToArray()).to(device)),
        _ => throw new ArgumentException($"unknown sample_strategy '{strategy}'"),
    };

    public Tensor Sample(Tensor positives, int perPositive)
    {
        long m = positives.shape[0];
        var negatives = popularity is null
            ? randint(1, itemCount + 1, [m, perPositive], dtype: int64, device: positives.device)
            : popularity.multinomial(m * perPositive, replacement: true).view(m, perPositive).add(Held.One, Held.One);
        var clash = negatives.eq(positives.unsqueeze(1));
        return where(clash, negatives.remainder(Held.Of(itemCount)).add(Held.One, Held.One), negatives);
    }
}
