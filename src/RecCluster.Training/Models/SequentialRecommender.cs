using static TorchSharp.torch;

namespace RecCluster.Training.Models;

/// <summary>
/// A batch of training sequences, right-padded with 0. <c>Targets[b, t]</c> is the item that follows
/// position t (0 where there is none); <c>Negatives</c> holds sampled negatives for the non-padding
/// targets in row-major order, or is null when the loss needs none.
/// </summary>
public sealed record TrainingBatch(Tensor Inputs, Tensor Targets, Tensor? Negatives);

/// <summary>
/// The small interface every model implements (after RecBole): a training loss, scores over all items
/// and scores for given candidates. Data, training loop and evaluation are shared by all models.
/// </summary>
public abstract class SequentialRecommender(string name) : nn.Module(name)
{
    /// <summary>False for models fitted in closed form (e.g. popularity): the trainer then runs no epochs.</summary>
    public virtual bool IsTrainable => true;

    /// <summary>Negatives per positive that <see cref="Loss"/> expects in the batch (0: none).</summary>
    public virtual int NegativesPerPositive => 0;

    public abstract Tensor Loss(TrainingBatch batch);

    /// <summary>Scores of every item id 0..N for the next item after each (right-padded) sequence: B x (N+1).</summary>
    public abstract Tensor FullScores(Tensor inputs, Tensor lengths);

    /// <summary>Scores of the given candidate items (B x C) for the next item after each sequence.</summary>
    public abstract Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates);
}
