using RecCluster.Training.Torch;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RecCluster.Training.Models;

public enum LossType { CE, BPR, BCE }

/// <summary>
/// Next-item losses over hidden states (M x H) and an item table ((N+1) x H, row 0 = padding), shared by
/// every model that scores items by dot product.
/// </summary>
public static class SequenceLosses
{
    public static Tensor Compute(LossType type, Tensor hidden, Tensor targets, Tensor? negatives, Tensor table)
    {
        if (type == LossType.CE && negatives is null)
        {
            // Full softmax over items 1..N; the padding row never competes.
            var logits = hidden.matmul(table.narrow(0, 1, table.shape[0] - 1).t());
            return F.cross_entropy(logits, targets.sub(Held.One));
        }
        if (negatives is null) throw new ArgumentException($"{type} needs sampled negatives");
        var (positive, negative) = SampledLogits(hidden, targets, negatives, table);
        long m = negatives.shape[0];
        return type switch
        {
            // Sampled softmax: the positive competes with its K negatives.
            LossType.CE => F.cross_entropy(cat([positive.unsqueeze(1), negative], 1), zeros(m, dtype: int64, device: hidden.device)),
            LossType.BPR => -F.logsigmoid(positive.unsqueeze(1) - negative).mean(),
            LossType.BCE => SigmoidLoss(positive, negative, 1.0),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
    }

    /// <summary>
    /// −[β·log σ(s⁺ + c) + Σₖ log(1 − σ(s⁻ₖ + c))] averaged over positions (β = 1: BCE; gSASRec's gBCE otherwise), with
    /// c = log(β/K) the common score at which the loss is least when every item scores alike. Without c training starts
    /// with all K negatives at σ ≈ 0.5: their push outweighs the positive's pull K-fold, and Adam, stepping every
    /// parameter alike, collapses item and sequence representations onto that one common score before any ranking is
    /// learnt (gSASRec with 128 negatives on the default synthetic set stayed at the popularity level). A constant added
    /// to every score changes no ranking; with one negative and β = 1, c = 0.
    /// </summary>
    public static Tensor SigmoidLoss(Tensor positive, Tensor negative, double beta)
    {
        var offset = Held.Of(Math.Log(beta / negative.shape[1]));
        var positiveTerm = F.logsigmoid(positive.add(offset, Held.One)).mul(Held.Of(beta));
        return -positiveTerm.Plus(F.logsigmoid(negative.add(offset, Held.One).neg()).sum(1)).mean();
    }

    /// <summary>Above this many items per negative, negatives are scored through all items' scores.</summary>
    private const long DenseNegativesRatio = 16;

    /// <summary>Scores of each target (M) and of its sampled negatives (M x K) against the hidden states (M x H).</summary>
    public static (Tensor Positive, Tensor Negative) SampledLogits(Tensor hidden, Tensor targets, Tensor negatives, Tensor table)
    {
        var positive = (hidden * table.index_select(0, targets)).sum(-1);                                   // M
        long m = negatives.shape[0], k = negatives.shape[1];
        // Many negatives from a small catalogue (gSASRec): scoring every item with one matrix product and picking the
        // negatives' scores costs far less than gathering M x K embeddings and scattering their gradients back.
        if (k * DenseNegativesRatio >= table.shape[0]) return (positive, hidden.matmul(table.t()).gather(1, negatives));
        var negativeEmbeddings = table.index_select(0, negatives.reshape(-1)).view(m, k, -1);              // M x K x H
        return (positive, negativeEmbeddings.matmul(hidden.unsqueeze(-1)).squeeze(-1));                    // M x K
    }
}

/// <summary>A next-item loss over hidden states (M x H), their targets (M), sampled negatives (M x K or null) and the item table.</summary>
public delegate Tensor NextItemLoss(Tensor hidden, Tensor targets, Tensor? negatives, Tensor table);
