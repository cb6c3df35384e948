using RecCluster.Core.Config;
using RecCluster.Training.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace RecCluster.Training.Models;

/// <summary>
/// Caser (Tang &amp; Wang, WSDM 2018): the embeddings of the L most recent items form an L x d "image"; n_h horizontal
/// filters of each height 1..L (ReLU, max-pooled over time) catch union-level and skip patterns, n_v vertical filters
/// (L x 1) weigh the L items per dimension; both, after dropout, pass a fully connected layer with ReLU to z (d), and
/// the next item is scored as [z; P_u] · W'_i + b'_i with a user embedding P_u and a separate output table W' (as in the
/// paper). Trained on a window ending at every position of a user's most recent <c>max_seq_length</c> transitions, one
/// target per window (T = 1), with the shared losses (<c>loss_type</c>, <c>neg_samples</c>).
/// <para>Users unseen in training (left out by <c>sample_ratio</c>, or with too short a history to train on) have no
/// learned embedding: they are scored with a zero user vector, so their scores come from their recent items alone
/// (row 0 of the user table, fixed at zero, which every such user maps to).</para>
/// </summary>
public sealed class Caser : SequentialRecommender
{
    private readonly Embedding _items, _users, _output;
    private readonly Linear _vertical;
    private readonly ModuleList<Linear> _horizontal;
    private readonly MaskDropout _dropout;
    private readonly Linear _hidden;
    private readonly Tensor _userRows;
    private readonly LossType _lossType;
    private readonly int _negatives, _window;

    /// <param name="trainedUsers">Users whose histories are trained on; every other user scores with a zero user vector.</param>
    public Caser(long itemCount, int userCount, IReadOnlyList<int> trainedUsers, TrialParameters p) : base("caser")
    {
        long d = p.GetInt("embedding_size"), nh = p.GetInt("n_h"), nv = p.GetInt("n_v");
        _window = (int)p.GetInt("window_length");
        MaxSequenceLength = (int)p.GetInt("max_seq_length");
        _lossType = Enum.Parse<LossType>(p.GetString("loss_type"));
        _negatives = (int)p.GetInt("neg_samples");
        var rows = new long[userCount];
        for (int i = 0; i < trainedUsers.Count; i++) rows[trainedUsers[i]] = i + 1;
        _userRows = tensor(rows);

        _items = nn.Embedding(itemCount + 1, d, padding_idx: 0);
        _users = nn.Embedding(trainedUsers.Count + 1, d, padding_idx: 0);
        // The convolutions as linear layers over the windows they slide across (the same sums; TorchSharp 0.107's CPU
        // Conv2d backward gave NaN input gradients here within a few steps).
        _vertical = nn.Linear(_window, nv);
        _horizontal = nn.ModuleList([.. Enumerable.Range(1, _window).Select(h => nn.Linear(h * d, nh))]);
        _dropout = new MaskDropout(p.GetDouble("dropout_prob"));
        _hidden = nn.Linear(nv * d + nh * _window, d);
        // W' and b' in one table: the bias is the last column, scored against a constant 1 appended to [z; P_u].
        _output = nn.Embedding(itemCount + 1, 2 * d + 1, padding_idx: 0);
        RegisterComponents();
        register_buffer("user_rows", _userRows);

        using var _ = no_grad();
        nn.init.normal_(_items.weight!, 0, 1.0 / d);
        nn.init.normal_(_users.weight!, 0, 1.0 / d);
        nn.init.normal_(_output.weight!, 0, 1.0 / (2 * d));
        _output.weight!.select(1, 2 * d).zero_();
        _items.weight![0].zero_();
        _users.weight![0].zero_();
        _output.weight![0].zero_();
        nn.init.normal_(_hidden.weight!, 0, Math.Sqrt(2.0 / (_hidden.weight!.shape[0] + _hidden.weight!.shape[1])));
        nn.init.zeros_(_hidden.bias!);
    }

    public override int MaxSequenceLength { get; }

    public override int NegativesPerPositive => _negatives;

    /// <summary>[z; P_u; 1] for windows of the L most recent items (M x L) and their users' table rows (M).</summary>
    private Tensor Represent(Tensor windows, Tensor userRows)
    {
        var image = _items.forward(windows);                                                  // M x L x d
        // Vertical filter f: Σ_l w[f, l]·E[l, :] + b_f, one value per dimension.
        var vertical = _vertical.forward(image.transpose(1, 2)).flatten(1);                   // M x (d·n_v)
        // Horizontal filters of height h: every h consecutive rows (h·d values) → n_h, ReLU, max over the L − h + 1 places.
        var horizontal = _horizontal.Select((filters, i) =>
        {
            var rows = image.unfold(1, i + 1, 1).transpose(2, 3);                               // M x (L−h+1) x h x d
            return F.relu(filters.forward(rows.reshape(rows.shape[0], rows.shape[1], -1))).amax([1]);   // M x n_h
        });
        var features = _dropout.forward(cat([vertical, .. horizontal], 1));
        var z = F.relu(_hidden.forward(features));
        return cat([z, _users.forward(userRows), ones(z.shape[0], 1, device: z.device)], 1);
    }

    /// <summary>Left-pads B x W inputs with L − 1 zeros, so that every column ends a full window.</summary>
    private Tensor PadForWindows(Tensor inputs) =>
        cat([zeros(inputs.shape[0], _window - 1, dtype: ScalarType.Int64, device: inputs.device), inputs], 1);

    public override Tensor Loss(TrainingBatch batch)
    {
        if (batch.Users is null) throw new ArgumentException("Caser needs the users of a batch");
        var windows = PadForWindows(batch.Inputs).unfold(1, _window, 1).reshape(-1, _window);     // (B·W) x L
        var rows = _userRows[batch.Users].unsqueeze(1).expand(batch.Inputs.shape).reshape(-1);
        var targets = batch.Targets.reshape(-1);
        var valid = targets.gt(Held.Of(0L)).nonzero().squeeze(1);
        var hidden = Represent(windows.index_select(0, valid), rows.index_select(0, valid));
        return SequenceLosses.Compute(_lossType, hidden, targets.index_select(0, valid), batch.Negatives, _output.weight!);
    }

    private Tensor LastRepresentation(Tensor inputs, Tensor? users)
    {
        var padded = PadForWindows(inputs);
        var windows = padded.narrow(1, padded.shape[1] - _window, _window);
        var rows = users is null ? zeros(inputs.shape[0], dtype: ScalarType.Int64, device: inputs.device) : _userRows[users];
        return Represent(windows, rows);
    }

    /// <summary>Without users: every history is scored with the zero (unknown) user vector.</summary>
    public override Tensor FullScores(Tensor inputs, Tensor lengths) => LastRepresentation(inputs, null).matmul(_output.weight!.t());

    public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates) =>
        _output.weight![candidates].matmul(LastRepresentation(inputs, null).unsqueeze(-1)).squeeze(-1);

    public override Tensor FullScores(Tensor inputs, Tensor lengths, Tensor users) => LastRepresentation(inputs, users).matmul(_output.weight!.t());

    public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates, Tensor users) =>
        _output.weight![candidates].matmul(LastRepresentation(inputs, users).unsqueeze(-1)).squeeze(-1);
}
