using RecCluster.Core.Data;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>Turns users' item sequences into right-padded tensors (0 = padding).</summary>
public static class SequenceBatches
{
    /// <summary>
    /// Training pairs for the given users: the most recent <paramref name="maxLength"/> transitions of each
    /// training history, inputs and next-item targets aligned position by position. The batch is only as
    /// wide as its longest row: right padding carries no information under causal attention.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) Training(SequenceDataset data, ReadOnlySpan<int> users, int maxLength, Device device)
    {
        int b = users.Length;
        int width = 1;
        foreach (var u in users) width = Math.Max(width, Math.Min(data.TrainItems(u).Length - 1, maxLength));
        maxLength = width;
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

    /// <summary>
    /// Cuts shuffled users into batches of similar training length (sorting within windows of 32 batches,
    /// then shuffling the batch order), so little compute goes to padding while epochs stay random.
    /// </summary>
    public static List<int[]> LengthBuckets(SequenceDataset data, int[] shuffledUsers, int batchSize, Random random)
    {
        var batches = new List<int[]>();
        int window = batchSize * 32;
        for (int start = 0; start < shuffledUsers.Length; start += window)
        {
            var chunk = shuffledUsers.AsSpan(start, Math.Min(window, shuffledUsers.Length - start)).ToArray();
            var keys = chunk.Select(u => data.TrainItems(u).Length).ToArray();
            Array.Sort(keys, chunk);
            for (int b = 0; b < chunk.Length; b += batchSize) batches.Add(chunk[b..Math.Min(b + batchSize, chunk.Length)]);
        }
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));
        return batches;
    }

    /// <summary>Each user's history before a split's target (most recent <paramref name="maxLength"/>), with lengths.</summary>
    public static (Tensor Inputs, Tensor Lengths) History(SequenceDataset data, ReadOnlySpan<int> users, Split split, int maxLength, Device device)
    {
        int b = users.Length;
        int width = 1;
        foreach (var u in users) width = Math.Max(width, Math.Min(data.History(u, split).Length, maxLength));
        maxLength = width;
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
