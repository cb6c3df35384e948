using RecCluster.Core.Config;
using RecCluster.Training.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RecCluster.Training.Models;

/// <summary>
/// GRU4Rec (Hidasi et al., ICLR 2016) for next-item prediction: item embeddings (with dropout) run through stacked GRUs;
/// each state is projected to the embedding width and scores items by dot product with the (tied) item embeddings, as
/// RecBole builds it. Trained at every position of a history (not with session-parallel mini-batches), with a full
/// softmax, or with sampled negatives as in Hidasi &amp; Karatzoglou (CIKM 2018): softmax over the target and its
/// negatives ("cross-entropy with additional samples"), BPR or BCE (<c>loss_type</c>, <c>neg_samples</c>).
/// <para>The shared batches are left-padded; a GRU reading padding first would carry a state that depends on how much
/// padding its batch needed, so each row is rotated to start at column 0 (padding after it, where a causal GRU cannot
/// see it): a user's scores do not depend on its batch.</para>
/// </summary>
public sealed class Gru4Rec : SequentialRecommender
{
    private readonly Embedding _items;
    private readonly MaskDropout _dropout;
    private readonly GRU _gru;
    private readonly Linear _project;
    private readonly LossType _lossType;
    private readonly int _negatives;

    public Gru4Rec(long itemCount, TrialParameters p) : base("gru4rec")
    {
        long embedding = p.GetInt("embedding_size"), hidden = p.GetInt("hidden_size"), layers = p.GetInt("num_layers");
        double dropout = p.GetDouble("dropout_prob");
        MaxSequenceLength = (int)p.GetInt("max_seq_length");
        _lossType = Enum.Parse<LossType>(p.GetString("loss_type"));
        _negatives = (int)p.GetInt("neg_samples");
        _items = nn.Embedding(itemCount + 1, embedding, padding_idx: 0);
        _dropout = new MaskDropout(dropout);
        _gru = nn.GRU(embedding, hidden, numLayers: layers, batchFirst: true, dropout: layers > 1 ? dropout : 0);
        _project = nn.Linear(hidden, embedding);
        RegisterComponents();
        using var _ = no_grad();
        // Xavier-normal tables and projection (the GRU keeps PyTorch's uniform ±1/√hidden), zero padding row and bias.
        nn.init.normal_(_items.weight!, 0, Math.Sqrt(2.0 / (itemCount + 1 + embedding)));
        _items.weight![0].zero_();
        nn.init.normal_(_project.weight!, 0, Math.Sqrt(2.0 / (hidden + embedding)));
        nn.init.zeros_(_project.bias!);
    }

    public override int MaxSequenceLength { get; }

    public override int NegativesPerPositive => _negatives;

    /// <summary>Per row, the column order that moves its items to the front: B x W.</summary>
    private static Tensor FrontFirst(Tensor inputs)
    {
        long width = inputs.shape[1];
        var lengths = inputs.ne(Held.Of(0L)).sum(1, keepdim: true);
        return Held.Range(0, width, inputs.device).unsqueeze(0).sub(lengths).remainder(Held.Of(width));
    }

    /// <summary>GRU states (projected to the embedding width) of histories moved to the front of their rows: B x W x E.</summary>
    private Tensor States(Tensor frontInputs)
    {
        var (output, _) = _gru.forward(_dropout.forward(_items.forward(frontInputs)));
        return _project.forward(output);
    }

    public override Tensor Loss(TrainingBatch batch)
    {
        var order = FrontFirst(batch.Inputs);
        var states = States(batch.Inputs.gather(1, order));
        var targets = batch.Targets.gather(1, order).reshape(-1);
        // Real positions keep their order within a row, so they line up with the row-major negatives.
        var valid = targets.gt(Held.Of(0L)).nonzero().squeeze(1);
        return SequenceLosses.Compute(_lossType, states.reshape(-1, states.shape[2]).index_select(0, valid),
            targets.index_select(0, valid), batch.Negatives, _items.weight!);
    }

    /// <summary>The state after each history's most recent item: B x E.</summary>
    private Tensor LastState(Tensor inputs)
    {
        var states = States(inputs.gather(1, FrontFirst(inputs)));
        var last = inputs.ne(Held.Of(0L)).sum(1).sub(Held.One).clamp_min(Held.Of(0L));
        return states.gather(1, last.view(-1, 1, 1).expand(-1, 1, states.shape[2])).squeeze(1);
    }

    public override Tensor FullScores(Tensor inputs, Tensor lengths) => LastState(inputs).matmul(_items.weight!.t());

    public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates) =>
        _items.weight![candidates].matmul(LastState(inputs).unsqueeze(-1)).squeeze(-1);
}
