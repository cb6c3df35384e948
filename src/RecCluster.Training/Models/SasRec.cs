using RecCluster.Core.Config;
using TorchSharp;
using RecCluster.Training.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RecCluster.Training.Models;

/// <summary>Item side information a model can add to its item embeddings.</summary>
public sealed record ItemSideTensors(Tensor? FeatureIds, Tensor? FeatureCounts, long FeatureCount, Tensor? Pretrained);

/// <summary>
/// SASRec (Kang &amp; McAuley, ICDM 2018): a causal self-attention transformer over the item sequence,
/// trained to predict the next item at every position. Sequences are right-padded, so causal attention
/// alone keeps real positions from seeing padding; attention runs through PyTorch's fused
/// scaled_dot_product_attention with is_causal.
/// </summary>
public sealed class SasRec : SequentialRecommender
{
    private readonly Embedding _items;
    private readonly Embedding _positions;
    private readonly Embedding? _features;
    private readonly Linear? _pretrainedProjection;
    private readonly Embedding? _candidates;
    private readonly LayerNorm _inputNorm;
    private readonly MaskDropout _inputDropout;
    private readonly ModuleList<TransformerBlock> _blocks;

    private readonly Tensor? _featureIds, _featureCounts, _pretrained;
    private readonly LossType _lossType;
    private readonly int _negatives;
    private readonly double _maskRate;
    private readonly long _itemCount;

    public SasRec(long itemCount, TrialParameters p, ItemSideTensors side) : base("sasrec")
    {
        _itemCount = itemCount;
        long hidden = p.GetInt("hidden_size");
        double dropout = p.GetDouble("hidden_dropout_prob");
        _lossType = Enum.Parse<LossType>(p.GetString("loss_type"));
        _negatives = (int)p.GetInt("negative_samples_count");
        _maskRate = p.GetDouble("mask_rate");
        MaxSequenceLength = (int)p.GetInt("max_seq_length");

        _items = nn.Embedding(itemCount + 1, hidden, padding_idx: 0);
        _positions = nn.Embedding(MaxSequenceLength, hidden);
        if (p.GetBool("append_item_features"))
        {
            _features = nn.Embedding(side.FeatureCount + 1, hidden, padding_idx: 0);
            _featureIds = side.FeatureIds ?? throw new ArgumentException("append_item_features needs item features");
            _featureCounts = side.FeatureCounts!;
        }
        if (p.GetBool("append_item_embeddings"))
        {
            _pretrained = side.Pretrained ?? throw new ArgumentException("append_item_embeddings needs pretrained item vectors");
            _pretrainedProjection = nn.Linear(_pretrained.shape[1], hidden, hasBias: false);
        }
        if (p.GetBool("use_candidate_embeddings")) _candidates = nn.Embedding(itemCount + 1, hidden, padding_idx: 0);
        _inputNorm = nn.LayerNorm(hidden, p.GetDouble("layer_norm_eps"));
        _inputDropout = new MaskDropout(dropout);
        _blocks = nn.ModuleList([.. Enumerable.Range(0, (int)p.GetInt("n_layers")).Select(_ => new TransformerBlock(
            hidden, p.GetInt("n_heads"), p.GetInt("inner_size"), dropout, p.GetDouble("attn_dropout_prob"),
            p.GetString("hidden_act"), p.GetDouble("layer_norm_eps")))]);
        RegisterComponents();
        if (_featureIds is not null) { register_buffer("feature_ids", _featureIds); register_buffer("feature_counts", _featureCounts!); }
        if (_pretrained is not null) register_buffer("pretrained", _pretrained);
        Initialize(p.GetDouble("initializer_range"));
    }

    public int MaxSequenceLength { get; }

    public override int NegativesPerPositive => _negatives;

    private void Initialize(double range)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (name.Contains("norm", StringComparison.OrdinalIgnoreCase)) { if (name.EndsWith("weight")) nn.init.ones_(parameter); else nn.init.zeros_(parameter); }
            else if (name.EndsWith("bias")) nn.init.zeros_(parameter);
            else nn.init.normal_(parameter, 0, range);
        }
        _items.weight![0].zero_();
        _candidates?.weight![0].zero_();
        _features?.weight![0].zero_();
    }

    /// <summary>Embeddings of item ids of any shape: the id embedding plus optional side information.</summary>
    private Tensor ItemRepresentation(Tensor ids)
    {
        var e = _items.forward(ids);
        if (_features is not null)
            e = e.Plus(_features.forward(_featureIds![ids]).sum(-2) / _featureCounts![ids].unsqueeze(-1));
        if (_pretrainedProjection is not null)
            e = e.Plus(_pretrainedProjection.forward(_pretrained![ids]));
        return e;
    }

    /// <summary>The table candidates are scored against: (N+1) x H.</summary>
    private Tensor ItemTable()
    {
        if (_candidates is not null) return _candidates.weight!;
        if (_features is null && _pretrainedProjection is null) return _items.weight!;
        return ItemRepresentation(Held.Range(_itemCount + 1, _items.weight!.device));
    }

    /// <summary>Hidden states for every position: B x L x H.</summary>
    public Tensor Encode(Tensor inputs)
    {
        long length = inputs.shape[1];
        var x = ItemRepresentation(inputs).Plus(_positions.forward(Held.Range(length, inputs.device)).unsqueeze(0));
        x = _inputDropout.forward(_inputNorm.forward(x));
        foreach (var block in _blocks) x = block.forward(x);
        return x;
    }

    public override Tensor Loss(TrainingBatch batch)
    {
        var inputs = batch.Inputs;
        if (_maskRate > 0)
            inputs = inputs.masked_fill(rand(inputs.shape, device: inputs.device).lt(Held.Of(_maskRate)), Held.Of(0L));
        var hidden = Encode(inputs);
        var valid = batch.Targets.gt(Held.Of(0L)).reshape(-1).nonzero().squeeze(1);
        var states = hidden.reshape(-1, hidden.shape[2]).index_select(0, valid);
        var targets = batch.Targets.reshape(-1).index_select(0, valid);
        return SequenceLosses.Compute(_lossType, states, targets, batch.Negatives, ItemTable());
    }

    private Tensor LastHidden(Tensor inputs, Tensor lengths)
    {
        var hidden = Encode(inputs);
        var index = lengths.sub(Held.One).view(-1, 1, 1).expand(-1, 1, hidden.shape[2]);
        return hidden.gather(1, index).squeeze(1);
    }

    public override Tensor FullScores(Tensor inputs, Tensor lengths) => LastHidden(inputs, lengths).matmul(ItemTable().t());

    public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates)
    {
        var last = LastHidden(inputs, lengths);
        return ItemTable()[candidates].matmul(last.unsqueeze(-1)).squeeze(-1);
    }
}

/// <summary>Post-norm transformer block: causal multi-head self-attention, then a feed-forward layer.</summary>
public sealed class TransformerBlock : nn.Module<Tensor, Tensor>
{
    private readonly Linear _qkv, _output, _inner, _outer;
    private readonly LayerNorm _attentionNorm, _feedForwardNorm;
    private readonly MaskDropout _dropout, _attentionDropoutLayer;
    private readonly long _heads;
    private readonly double _attentionDropout;
    private readonly Func<Tensor, Tensor> _activation;

    public TransformerBlock(long hidden, long heads, long inner, double dropout, double attentionDropout, string activation, double eps)
        : base("block")
    {
        _heads = heads;
        _attentionDropout = attentionDropout;
        _qkv = nn.Linear(hidden, 3 * hidden);
        _output = nn.Linear(hidden, hidden);
        _inner = nn.Linear(hidden, inner);
        _outer = nn.Linear(inner, hidden);
        _attentionNorm = nn.LayerNorm(hidden, eps);
        _feedForwardNorm = nn.LayerNorm(hidden, eps);
        _dropout = new MaskDropout(dropout);
        _attentionDropoutLayer = new MaskDropout(attentionDropout);
        _activation = activation switch
        {
            "gelu" => x => F.gelu(x),
            "relu" => x => F.relu(x),
            "swish" => x => F.silu(x),
            "tanh" => x => x.tanh(),
            "sigmoid" => x => x.sigmoid(),
            _ => throw new ArgumentException($"unknown activation '{activation}'"),
        };
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        long b = x.shape[0], l = x.shape[1], h = x.shape[2];
        // B x L x 3H -> 3 x B x heads x L x head_size
        var qkv = _qkv.forward(x).view(b, l, 3, _heads, h / _heads).permute(2, 0, 3, 1, 4);
        var attended = training && _attentionDropout > 0
            ? DroppedAttention(qkv[0], qkv[1], qkv[2])
            : F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: true);
        var merged = attended.transpose(1, 2).reshape(b, l, h);
        x = _attentionNorm.forward(x.Plus(_dropout.forward(_output.forward(merged))));
        var feedForward = _outer.forward(_activation(_inner.forward(x)));
        return _feedForwardNorm.forward(x.Plus(_dropout.forward(feedForward)));
    }

    /// <summary>
    /// Causal attention with dropout on the attention weights. The fused kernel cannot apply dropout on CPU
    /// without falling back to a slower path than this explicit one (measured in bench/).
    /// </summary>
    private Tensor DroppedAttention(Tensor q, Tensor k, Tensor v)
    {
        long length = q.shape[2];
        var future = ones(length, length, dtype: ScalarType.Bool, device: q.device).triu(1);
        var scores = q.matmul(k.transpose(-2, -1)).mul_(Held.Of(1 / Math.Sqrt(q.shape[3]))).masked_fill_(future, Held.Of(double.NegativeInfinity));
        return _attentionDropoutLayer.forward(scores.softmax(-1)).matmul(v);
    }
}
