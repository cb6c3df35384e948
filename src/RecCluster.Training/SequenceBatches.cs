using RecCluster.Core.Data;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>Turns users' item sequences into right-padded tensors (0 = padding).</summary>
public static class SequenceBatches
{
    /// <summary>
    /// Training pairs for the given users: the most recent <paramref name="maxLength"/> transitions of each
    /// training history, inputs and next-item targets aligned position by position.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) Training(SequenceDataset data, ReadOnlySpan<int> users, int maxLength, Device device)
    {
        int b = users.Length;
        var inputs = new long[b * maxLength];
        var targets = new long[b * maxLength];
        for (int row = 0; row < b; row++)
        {
            var items = data.TrainItems(users[row]);
            int pairs = Math.Min(items.Length - 1, maxLength);
            var window = items[^(pairs + 1)..];
            for (int t = 0; t < pairs; t++)
            {
                inputs[row * maxLength + t] = window[t];
                targets[row * maxLength + t] = window[t + 1];
            }
        }
        return (tensor(inputs, [b, maxLength]).to(device), tensor(targets, [b, maxLength]).to(device));
    }

    /// <summary>Each user's history before a split's target (most recent <paramref name="maxLength"/>), with lengths.</summary>
    public static (Tensor Inputs, Tensor Lengths) History(SequenceDataset data, ReadOnlySpan<int> users, Split split, int maxLength, Device device)
    {
        int b = users.Length;
        var inputs = new long[b * maxLength];
        var lengths = new long[b];
        for (int row = 0; row < b; row++)
        {
            var history = data.History(users[row], split);
            var window = history[^Math.Min(history.Length, maxLength)..];
            for (int t = 0; t < window.Length; t++) inputs[row * maxLength + t] = window[t];
            lengths[row] = window.Length;
        }
        return (tensor(inputs, [b, maxLength]).to(device), tensor(lengths).to(device));
    }
}
