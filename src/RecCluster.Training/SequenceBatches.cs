using RecCluster.Core.Data;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>Training rows of one batch and how many next-item targets (non-padding positions) they hold.</summary>
public sealed record TrainingRows(Tensor Inputs, Tensor Targets, long Positions);

/// <summary>
/// Turns users' item sequences into left-padded tensors (0 = padding): the most recent item always sits in the last
/// column, as in the SASRec reference, so a position counted back from the most recent item means the same thing in
/// every row. A batch is only as wide as its longest row.
/// </summary>
public static class SequenceBatches
{
    /// <summary>Next-item targets a user contributes per epoch: transitions in the most recent <paramref name="maxLength"/>.</summary>
    public static int TrainingPositions(SequenceDataset data, int user, int maxLength) => Math.Min(data.TrainItems(user).Length - 1, maxLength);

    /// <summary>
    /// Training pairs for the given users: the most recent <paramref name="maxLength"/> transitions of each training
    /// history, inputs and next-item targets aligned position by position.
    /// </summary>
    public static TrainingRows Training(SequenceDataset data, ReadOnlySpan<int> users, int maxLength, Device device)
    {
        int b = users.Length;
        int width = 1;
        foreach (var u in users) width = Math.Max(width, TrainingPositions(data, u, maxLength));
        var inputs = new long[b * width];
        var targets = new long[b * width];
        long positions = 0;
        for (int row = 0; row < b; row++)
        {
            var items = data.TrainItems(users[row]);
            int pairs = TrainingPositions(data, users[row], maxLength);
            var window = items[^(pairs + 1)..];
            int offset = row * width + width - pairs;
            for (int t = 0; t < pairs; t++)
            {
                inputs[offset + t] = window[t];
                targets[offset + t] = window[t + 1];
            }
            positions += pairs;
        }
        return new TrainingRows(tensor(inputs, [b, width]).to(device), tensor(targets, [b, width]).to(device), positions);
    }

    /// <summary>
    /// Cuts freshly shuffled users into batches. With <paramref name="windowBatches"/> = 1 every batch is a random set
    /// of users; a larger window sorts users by training length within windows of that many batches (then shuffles the
    /// batch order), so less compute goes to padding. A window never spans more than half of the epoch's batches:
    /// sorting all users at once would give every epoch the same batches in another order.
    /// </summary>
    public static List<int[]> Batches(SequenceDataset data, int[] shuffledUsers, int batchSize, int windowBatches, Random random)
    {
        var batches = new List<int[]>();
        int epochBatches = (shuffledUsers.Length + batchSize - 1) / batchSize;
        windowBatches = Math.Max(1, Math.Min(windowBatches, epochBatches / 2));
        int window = batchSize * windowBatches;
        for (int start = 0; start < shuffledUsers.Length; start += window)
        {
            var chunk = shuffledUsers.AsSpan(start, Math.Min(window, shuffledUsers.Length - start)).ToArray();
            if (windowBatches > 1)
            {
                var keys = chunk.Select(u => data.TrainItems(u).Length).ToArray();
                Array.Sort(keys, chunk);
            }
            for (int b = 0; b < chunk.Length; b += batchSize) batches.Add(chunk[b..Math.Min(b + batchSize, chunk.Length)]);
        }
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));
        return batches;
    }

    /// <summary>
    /// A batch's users sorted by training length (ties in batch order) and cut into passes of at most
    /// <paramref name="passSize"/> users (0: the whole batch in one pass). Each pass is padded only to its own longest
    /// row, so a batch that mixes short and long histories computes little padding; the model's output for a row does not
    /// depend on how much padding its pass needs, so the passes' gradients add up to the whole batch's.
    /// </summary>
    public static List<int[]> Passes(SequenceDataset data, int[] batch, int passSize)
    {
        if (passSize <= 0 || passSize >= batch.Length) return [batch];
        var sorted = batch.OrderBy(u => data.TrainItems(u).Length).ToArray();
        var passes = new List<int[]>();
        for (int start = 0; start < sorted.Length; start += passSize) passes.Add(sorted[start..Math.Min(start + passSize, sorted.Length)]);
        return passes;
    }

    /// <summary>Each user's history before a split's target (most recent <paramref name="maxLength"/>), with lengths.</summary>
    public static (Tensor Inputs, Tensor Lengths) History(SequenceDataset data, ReadOnlySpan<int> users, Split split, int maxLength, Device device)
    {
        int b = users.Length;
        int width = 1;
        foreach (var u in users) width = Math.Max(width, Math.Min(data.History(u, split).Length, maxLength));
        var inputs = new long[b * width];
        var lengths = new long[b];
        for (int row = 0; row < b; row++)
        {
            var history = data.History(users[row], split);
            var window = history[^Math.Min(history.Length, width)..];
            int offset = row * width + width - window.Length;
            for (int t = 0; t < window.Length; t++) inputs[offset + t] = window[t];
            lengths[row] = window.Length;
        }
        return (tensor(inputs, [b, width]).to(device), tensor(lengths).to(device));
    }
}
