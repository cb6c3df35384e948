using RecCluster.Core.Config;
using static TorchSharp.torch;

namespace RecCluster.Training.Models;

/// <summary>
/// gSASRec (Petrov &amp; Macdonald, RecSys 2023): SASRec's network (the same <see cref="SasRec"/> encoder, scoring and
/// padding) trained with many sampled negatives and generalised binary cross-entropy. BCE over sampled negatives makes a
/// model overconfident about the positive: it sees far fewer negatives than the catalogue holds. gBCE raises the
/// positive's probability to a power beta, loss = -[beta·log σ(s⁺) + Σ_k log(1 − σ(s⁻_k))], with
/// beta = α·(t·(1 − 1/α) + 1/α) where α = K / (N − 1) is the negative sampling rate and t ∈ [0, 1] the calibration
/// parameter: t = 0 gives beta = 1 (plain BCE), t = 1 gives beta = α (fully calibrated). Scores enter the loss offset
/// by log(β/K) (<see cref="SequenceLosses.SigmoidLoss"/>: without it many negatives collapse training), and by default
/// they are dot products with a separate output item table, as in the reference (<c>reuse_item_embeddings=False</c>).
/// </summary>
public static class GSasRec
{
    public static SasRec Create(long itemCount, TrialParameters p, ItemSideTensors side)
    {
        double beta = Beta(p.GetInt("negative_samples_count"), itemCount, p.GetDouble("gbce_t"));
        return new SasRec(itemCount, p, side, (hidden, targets, negatives, table) => Loss(hidden, targets, negatives, table, beta));
    }

    /// <summary>The paper's beta for K negatives among N items; α is capped at 1 (K ≥ N − 1 samples the whole catalogue).</summary>
    public static double Beta(long negatives, long itemCount, double t)
    {
        double alpha = Math.Min(1.0, negatives / (double)Math.Max(1, itemCount - 1));
        return alpha * (t * (1 - 1 / alpha) + 1 / alpha);
    }

    /// <summary>gBCE averaged over target positions (log σ^β(s) = β·log σ(s), which stays finite for any score).</summary>
    public static Tensor Loss(Tensor hidden, Tensor targets, Tensor? negatives, Tensor table, double beta)
    {
        if (negatives is null) throw new ArgumentException("gBCE needs sampled negatives");
        var (positive, negative) = SequenceLosses.SampledLogits(hidden, targets, negatives, table);
        return SequenceLosses.SigmoidLoss(positive, negative, beta);
    }
}
