using RecCluster.Core.Config;
using RecCluster.Training.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RecCluster.Training.Models;

/// <summary>Item side information a model can add to its item embeddings.</summary>
public sealed record ItemSideTensors(Tensor? FeatureIds, Tensor? FeatureCounts, long FeatureCount, Tensor? Pretrained);

/// <summary>
/// SASRec (Kang &amp; McAuley, ICDM 2018) as its reference implementation builds it: item embeddings scaled by
/// sqrt(d) plus a learned position counted back from the most recent item, then blocks of causal self-attention whose
/// query is layer-normalised and added to the attention output, a point-wise feed-forward layer with a residual, and a
/// final LayerNorm; padded positions are zeroed after every block and hidden from attention. Trained to predict the
/// next item at every position; scores are dot products with the (tied) item embeddings.
/// </summary>
public sealed class SasRec : SequentialRecommender
{
    private readonly Embedding _items;
    private readonly Embedding _positions;
    private readonly Embedding? _features;
    private readonly Linear? _pretrainedProjection;
    private readonly Embedding? _candidates;
    private readonly MaskDropout _embeddingDropout;
    private readonly ModuleList<SasRecBlock> _blocks;
    private readonly LayerNorm _finalNorm;

    private readonly Tensor? _featureIds, _featureCounts, _pretrained;
    private readonly NextItemLoss _loss;
    private readonly int _negatives;
    private readonly double _maskRate, _embeddingScale;
    private readonly long _itemCount;

    /// <param name="loss">The training loss over hidden states, targets, negatives and the item table (default: <c>loss_type</c>).</param>
    public SasRec(long itemCount, TrialParameters p, ItemSideTensors side, NextItemLoss? loss = null) : base("sasrec")
    {
        _itemCount = itemCount;
        long hidden = p.GetInt("hidden_size");
        double dropout = p.GetDouble("hidden_dropout_prob"), eps = p.GetDouble("layer_norm_eps");
        _embeddingScale = Math.Sqrt(hidden);
        var lossType = loss is null ? Enum.Parse<LossType>(p.GetString("loss_type")) : default;
        _loss = loss ?? ((states, targets, negatives, table) => SequenceLosses.Compute(lossType, states, targets, negatives, table));
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
        _embeddingDropout = new MaskDropout(dropout);
        _blocks = nn.ModuleList([.. Enumerable.Range(0, (int)p.GetInt("n_layers")).Select(_ => new SasRecBlock(
            hidden, p.GetInt("n_heads"), p.GetInt("inner_size"), dropout, p.GetDouble("attn_dropout_prob"), p.GetString("hidden_act"), eps))]);
        _finalNorm = nn.LayerNorm(hidden, eps);
        RegisterComponents();
        if (_featureIds is not null) { register_buffer("feature_ids", _featureIds); register_buffer("feature_counts", _featureCounts!); }
        if (_pretrained is not null) register_buffer("pretrained", _pretrained);
        Initialize(p.GetString("initializer"), p.GetDouble("initializer_range"));
    }

    public override int MaxSequenceLength { get; }

    public override int NegativesPerPositive => _negatives;

    /// <summary>
    /// Matrices get Xavier-normal weights (the reference's choice) or N(0, range²) (RecBole's); LayerNorm starts at
    /// identity, biases at zero, padding rows at zero. TorchSharp 0.107's xavier_normal_ draws a uniform
    /// distribution, so the normal one is drawn here.
    /// </summary>
    private void Initialize(string initializer, double range)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in named_parameters())
        {
            if (parameter.dim() >= 2)
            {
                double std = initializer == "normal" ? range : Math.Sqrt(2.0 / (parameter.shape[0] + parameter.shape[1]));
                nn.init.normal_(parameter, 0, std);
            }
            else if (name.Contains("norm", StringComparison.OrdinalIgnoreCase) && name.EndsWith("weight")) nn.init.ones_(parameter);
            else nn.init.zeros_(parameter);
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
        return ItemRepresentation(Held.Range(0, _itemCount + 1, _items.weight!.device));
    }

    /// <summary>
    /// What the first block reads (before dropout): item embeddings scaled by sqrt(d), so that they are not drowned by
    /// the position embeddings, plus the embedding of each column's position counted back from the last column.
    /// </summary>
    public Tensor InputEmbeddings(Tensor inputs)
    {
        long width = inputs.shape[1];
        var positions = _positions.forward(Held.Range(MaxSequenceLength - width, MaxSequenceLength, inputs.device));
        return ItemRepresentation(inputs).mul(Held.Of(_embeddingScale)).Plus(positions.unsqueeze(0));
    }

    /// <summary>Hidden states for every position of left-padded inputs: B x L x H.</summary>
    public Tensor Encode(Tensor inputs) => Encode(inputs, inputs.ne(Held.Of(0L)));

    /// <param name="real">B x L, true where a position holds an item (kept apart from the inputs so that items masked
    /// out by mask_rate lose their identity but keep their place in the sequence).</param>
    private Tensor Encode(Tensor inputs, Tensor real)
    {
        var keep = real.unsqueeze(-1).to_type(ScalarType.Float32);
        var x = _embeddingDropout.forward(InputEmbeddings(inputs)) * keep;
        var bias = AttentionBias(real);
        foreach (var block in _blocks) x = block.Forward(x, bias, keep);
        return _finalNorm.forward(x);
    }

    /// <summary>
    /// B x 1 x L x L, added to the attention scores: 0 where a query may attend to a key (earlier or same positions
    /// holding an item), -inf elsewhere. A padded query attends to itself only (its output is zeroed), so no softmax row is
    /// empty; hiding padded keys keeps a row's output independent of how much padding its batch needed (which is what lets
    /// a batch train in passes of similar lengths). Built once per forward pass and shared by the blocks.
    /// </summary>
    private static Tensor AttentionBias(Tensor real)
    {
        long width = real.shape[1];
        var causal = ones(width, width, dtype: ScalarType.Bool, device: real.device).tril();
        var self = eye(width, dtype: ScalarType.Bool, device: real.device);
        var blocked = real.unsqueeze(1).logical_or(self.unsqueeze(0)).logical_and(causal.unsqueeze(0)).logical_not().unsqueeze(1);
        return zeros(blocked.shape, device: real.device).masked_fill_(blocked, Held.Of(double.NegativeInfinity));
    }

    public override Tensor Loss(TrainingBatch batch)
    {
        var real = batch.Inputs.ne(Held.Of(0L));
        var inputs = _maskRate > 0
            ? batch.Inputs.masked_fill(rand(batch.Inputs.shape, device: batch.Inputs.device).lt(Held.Of(_maskRate)), Held.Of(0L))
            : batch.Inputs;
        var hidden = Encode(inputs, real);
        var valid = batch.Targets.gt(Held.Of(0L)).reshape(-1).nonzero().squeeze(1);
        var states = hidden.reshape(-1, hidden.shape[2]).index_select(0, valid);
        var targets = batch.Targets.reshape(-1).index_select(0, valid);
        return _loss(states, targets, batch.Negatives, ItemTable());
    }

    /// <summary>The state after the most recent item: with left padding, the last column.</summary>
    private Tensor LastHidden(Tensor inputs) => Encode(inputs).select(1, -1);

    public override Tensor FullScores(Tensor inputs, Tensor lengths) => LastHidden(inputs).matmul(ItemTable().t());

    public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates) =>
        ItemTable()[candidates].matmul(LastHidden(inputs).unsqueeze(-1)).squeeze(-1);
}

/// <summary>
/// The reference SASRec block: x' = LN(x) + Attention(query LN(x), keys and values x); out = LN(x') + FFN(LN(x')),
/// with FFN = Linear → activation → dropout → Linear → dropout; padded positions zeroed.
/// </summary>
public sealed class SasRecBlock : nn.Module
{
    private readonly Linear _query, _keyValue, _output, _inner, _outer;
    private readonly LayerNorm _attentionNorm, _feedForwardNorm;
    private readonly MaskDropout _dropout, _attentionDropoutLayer;
    private readonly long _heads;
    private readonly double _attentionDropout;
    private readonly Func<Tensor, Tensor> _activation;

    public SasRecBlock(long hidden, long heads, long inner, double dropout, double attentionDropout, string activation, double eps)
        : base("block")
    {
        _heads = heads;
        _attentionDropout = attentionDropout;
        _query = nn.Linear(hidden, hidden);
        _keyValue = nn.Linear(hidden, 2 * hidden);
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

    /// <param name="bias">B x 1 x L x L, added to the attention scores (0: may attend, -inf: may not).</param>
    /// <param name="keep">B x L x 1, 1 at positions holding an item.</param>
    public Tensor Forward(Tensor x, Tensor bias, Tensor keep)
    {
        long b = x.shape[0], l = x.shape[1], h = x.shape[2];
        var normalized = _attentionNorm.forward(x);
        var q = _query.forward(normalized).view(b, l, _heads, h / _heads).transpose(1, 2);
        var kv = _keyValue.forward(x).view(b, l, 2, _heads, h / _heads).permute(2, 0, 3, 1, 4);
        var attended = training && _attentionDropout > 0
            ? DroppedAttention(q, kv[0], kv[1], bias)
            : F.scaled_dot_product_attention(q, kv[0], kv[1], attn_mask: bias);
        x = _feedForwardNorm.forward(normalized.Plus(_output.forward(attended.transpose(1, 2).reshape(b, l, h))));
        var feedForward = _dropout.forward(_outer.forward(_dropout.forward(_activation(_inner.forward(x)))));
        return x.Plus(feedForward) * keep;
    }

    /// <summary>
    /// Masked attention with dropout on the attention weights. The fused kernel cannot apply dropout on CPU
    /// without falling back to a slower path than this explicit one (measured in bench/). The 1/sqrt(d) scale goes on
    /// the queries (B x L x d) and the mask is added in place, so that only softmax and dropout pass over the
    /// B x L x L scores besides the two products.
    /// </summary>
    private Tensor DroppedAttention(Tensor q, Tensor k, Tensor v, Tensor bias)
    {
        var scores = q.mul(Held.Of(1 / Math.Sqrt(q.shape[3]))).matmul(k.transpose(-2, -1)).add_(bias, Held.One);
        return _attentionDropoutLayer.forward(scores.softmax(-1)).matmul(v);
    }
}
