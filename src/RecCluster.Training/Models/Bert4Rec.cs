using RecCluster.Core.Config;
using RecCluster.Training.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RecCluster.Training.Models;

/// <summary>
/// BERT4Rec (Sun et al., CIKM 2019): a bidirectional transformer over a user's items trained with the cloze task: a share
/// <c>mask_rate</c> of the items of each training sequence (its inputs plus its last target) is replaced by a [MASK]
/// token (id N + 1) and predicted from both sides with a softmax over all items; a sequence that drew no mask has its
/// most recent item masked (the paper's extra samples that mask only the last item). At inference a [MASK] is appended
/// to the history and its state scores the items (dot product with the tied item embeddings).
/// <para>Embeddings are item + learned position (counted back from the last column, as in our SASRec, so left padding
/// changes nothing), LayerNorm and dropout as in BERT; the blocks are <see cref="SasRecBlock"/>s (the same attention,
/// feed-forward and padding handling) with a mask that lets every position see every real item, then a final LayerNorm.
/// As in BERT and RecBole, a masked position's state passes an output head (linear → GELU → LayerNorm) and items are
/// scored by dot product with the tied item embeddings plus a per-item bias. From N(0, 0.02²) the model first sits on the
/// popularity plateau; on the default synthetic set it left it after about 500 steps at learning rate 0.001 and not in
/// 1000 steps at 0.005 (batch 32).</para>
/// </summary>
public sealed class Bert4Rec : SequentialRecommender
{
    private readonly Embedding _items, _positions;
    private readonly LayerNorm _embeddingNorm, _finalNorm, _headNorm;
    private readonly Linear _head;
    private readonly Parameter _outputBias;
    private readonly MaskDropout _dropout;
    private readonly ModuleList<SasRecBlock> _blocks;
    private readonly long _itemCount, _maskToken;
    private readonly double _maskRate;

    public Bert4Rec(long itemCount, TrialParameters p) : base("bert4rec")
    {
        _itemCount = itemCount;
        _maskToken = itemCount + 1;
        long d = p.GetInt("embedding_size");
        double dropout = p.GetDouble("dropout_prob"), eps = p.GetDouble("layer_norm_eps");
        _maskRate = p.GetDouble("mask_rate");
        MaxSequenceLength = (int)p.GetInt("max_seq_length");
        _items = nn.Embedding(itemCount + 2, d, padding_idx: 0);
        _positions = nn.Embedding(MaxSequenceLength + 1, d);
        _embeddingNorm = nn.LayerNorm(d, eps);
        _dropout = new MaskDropout(dropout);
        _blocks = nn.ModuleList([.. Enumerable.Range(0, (int)p.GetInt("n_layers")).Select(_ => new SasRecBlock(
            d, p.GetInt("n_heads"), p.GetInt("inner_size"), dropout, p.GetDouble("attn_dropout_prob"), p.GetString("hidden_act"), eps))]);
        _finalNorm = nn.LayerNorm(d, eps);
        _head = nn.Linear(d, d);
        _headNorm = nn.LayerNorm(d, eps);
        _outputBias = nn.Parameter(zeros(itemCount + 1));
        RegisterComponents();

        // BERT's initialisation: N(0, 0.02²) matrices (Xavier-normal, as in our SASRec, left the small synthetic set without
        // learning for 60 epochs), LayerNorm at identity, zero biases and padding row.
        using var _ = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (parameter.dim() >= 2) nn.init.normal_(parameter, 0, 0.02);
            else if (name.Contains("norm", StringComparison.OrdinalIgnoreCase) && name.EndsWith("weight")) nn.init.ones_(parameter);
            else nn.init.zeros_(parameter);
        }
        _items.weight![0].zero_();
    }

    public override int MaxSequenceLength { get; }

    /// <summary>The items scored: rows 0..N of the input table (row 0, padding, never wins; [MASK] is not an item).</summary>
    private Tensor ItemTable() => _items.weight!.narrow(0, 0, _itemCount + 1);

    /// <summary>Scores of items 0..N for states (M x d): the output head, then the tied embeddings plus the item bias.</summary>
    private Tensor Scores(Tensor states) => _headNorm.forward(F.gelu(_head.forward(states))).matmul(ItemTable().t()).Plus(_outputBias);

    /// <summary>States of every position of left-padded sequences (which may hold [MASK]s): B x W x d.</summary>
    private Tensor Encode(Tensor sequence)
    {
        long width = sequence.shape[1], positions = MaxSequenceLength + 1;
        var real = sequence.ne(Held.Of(0L));
        var keep = real.unsqueeze(-1).to_type(ScalarType.Float32);
        var position = _positions.forward(Held.Range(positions - width, positions, sequence.device)).unsqueeze(0);
        var x = _dropout.forward(_embeddingNorm.forward(_items.forward(sequence).Plus(position))) * keep;
        // Every query sees every real item; a padded query sees itself only (its output is zeroed).
        var self = eye(width, dtype: ScalarType.Bool, device: sequence.device).unsqueeze(0);
        var allowed = real.unsqueeze(1).logical_or(self).unsqueeze(1);
        foreach (var block in _blocks) x = block.Forward(x, allowed, keep);
        return _finalNorm.forward(x);
    }

    public override Tensor Loss(TrainingBatch batch)
    {
        // The whole training sequence: the inputs and the last target (left padding keeps it in the last column).
        var sequence = cat([batch.Inputs, batch.Targets.narrow(1, batch.Targets.shape[1] - 1, 1)], 1);
        var real = sequence.ne(Held.Of(0L));
        var masked = rand(sequence.shape, device: sequence.device).lt(Held.Of(_maskRate)).logical_and(real);
        var none = masked.any(1, keepdim: true).logical_not();
        var last = zeros_like(masked);
        last.select(1, -1).fill_(Held.Of(1L));
        masked = masked.logical_or(none.logical_and(last));
        var hidden = Encode(sequence.masked_fill(masked, Held.Of(_maskToken)));
        var at = masked.reshape(-1).nonzero().squeeze(1);
        var states = hidden.reshape(-1, hidden.shape[2]).index_select(0, at);
        // Softmax over items 1..N; padding never competes.
        var logits = Scores(states).narrow(1, 1, _itemCount);
        return F.cross_entropy(logits, sequence.reshape(-1).index_select(0, at).sub(Held.One));
    }

    /// <summary>The state of a [MASK] appended to each history: B x d.</summary>
    private Tensor MaskState(Tensor inputs)
    {
        var mask = full(inputs.shape[0], 1, Held.Of(_maskToken), dtype: ScalarType.Int64, device: inputs.device);
        var sequence = cat([inputs, mask], 1);
        // A history at full length drops its oldest item to make room for the [MASK].
        if (sequence.shape[1] > MaxSequenceLength + 1) sequence = sequence.narrow(1, 1, MaxSequenceLength + 1);
        return Encode(sequence).select(1, -1);
    }

    public override Tensor FullScores(Tensor inputs, Tensor lengths) => Scores(MaskState(inputs));

    public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates) =>
        Scores(MaskState(inputs)).gather(1, candidates);
}
