using static TorchSharp.torch;

namespace RecCluster.Training.Models;

/// <summary>Most-popular baseline: scores each item by how often it occurs in the training histories.</summary>
public sealed class Popularity : SequentialRecommender
{
    private readonly Tensor _counts;

    public Popularity(long[] trainCounts, Device device) : base("pop")
    {
        _counts = tensor(trainCounts.Select(c => (float)c).ToArray()).to(device);
        register_buffer("counts", _counts);
    }

    public override bool IsTrainable => false;

    public override Tensor Loss(TrainingBatch batch) => throw new InvalidOperationException("the popularity baseline is not trained by gradient descent");

    public override Tensor FullScores(Tensor inputs, Tensor lengths) => _counts.unsqueeze(0).expand(inputs.shape[0], -1);

    public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates) => _counts[candidates];
}
