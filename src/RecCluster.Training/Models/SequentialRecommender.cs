using static TorchSharp.torch;

namespace RecCluster.Training.Models;

/// <summary>
/// A batch of training sequences, left-padded with 0 (the most recent item in the last column). <c>Targets[b, t]</c> is
/// the item that follows position t (0 where there is none); <c>Negatives</c> holds sampled negatives for the
/// non-padding targets in row-major order, or is null when the loss needs none; <c>Users</c> holds each row's user index
/// (B) for models with user embeddings.
/// </summary>
public sealed record TrainingBatch(Tensor Inputs, Tensor Targets, Tensor? Negatives, Tensor? Users = null);

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

    /// <summary>How many of the most recent items training rows and scored histories hold.</summary>
    public virtual int MaxSequenceLength => 1;

    public abstract Tensor Loss(TrainingBatch batch);

    /// <summary>Scores of every item id 0..N for the next item after each (left-padded) sequence: B x (N+1).</summary>
    public abstract Tensor FullScores(Tensor inputs, Tensor lengths);

    /// <summary>Scores of the given candidate items (B x C) for the next item after each sequence.</summary>
    public abstract Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates);

    /// <summary><see cref="FullScores(Tensor, Tensor)"/> for the given users (B); models without user embeddings ignore them.</summary>
    public virtual Tensor FullScores(Tensor inputs, Tensor lengths, Tensor users) => FullScores(inputs, lengths);

    /// <summary><see cref="CandidateScores(Tensor, Tensor, Tensor)"/> for the given users (B).</summary>
    public virtual Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates, Tensor users) => CandidateScores(inputs, lengths, candidates);
}
