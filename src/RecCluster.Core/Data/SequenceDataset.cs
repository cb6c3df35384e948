namespace RecCluster.Core.Data;

/// <summary>
/// Users' time-ordered item sequences with dense ids: items are 1..ItemCount (0 is padding).
/// Split is leave-one-out: the last item is the test target, the second-to-last the validation target,
/// the rest is training history. Every user has at least three interactions.
/// </summary>
public sealed class SequenceDataset
{
    public const int MinimumSequenceLength = 3;

    public SequenceDataset(string name, IReadOnlyList<int[]> sequences, IReadOnlyList<string> itemTokens, IReadOnlyList<string> userTokens, int skippedUsers = 0)
    {
        if (sequences.Count == 0) throw new ArgumentException("a dataset needs at least one user");
        if (sequences.Any(s => s.Length < MinimumSequenceLength)) throw new ArgumentException($"every sequence needs at least {MinimumSequenceLength} items");
        Name = name;
        Sequences = sequences;
        ItemTokens = itemTokens;
        UserTokens = userTokens;
        SkippedUsers = skippedUsers;
    }

    public string Name { get; }
    public IReadOnlyList<int[]> Sequences { get; }
    /// <summary>Original item id of each dense id; index 0 is the padding placeholder.</summary>
    public IReadOnlyList<string> ItemTokens { get; }
    public IReadOnlyList<string> UserTokens { get; }
    /// <summary>Users dropped for having fewer than three interactions after filtering.</summary>
    public int SkippedUsers { get; }

    public int UserCount => Sequences.Count;
    public int ItemCount => ItemTokens.Count - 1;
    public long InteractionCount => Sequences.Sum(s => (long)s.Length);

    public ReadOnlySpan<int> TrainItems(int user) => Sequences[user].AsSpan(0, Sequences[user].Length - 2);
    public int ValidTarget(int user) => Sequences[user][^2];
    public int TestTarget(int user) => Sequences[user][^1];

    /// <summary>The items a model sees before predicting a split's target.</summary>
    public ReadOnlySpan<int> History(int user, Split split) =>
        Sequences[user].AsSpan(0, Sequences[user].Length - (split == Split.Valid ? 2 : 1));

    public int Target(int user, Split split) => split == Split.Valid ? ValidTarget(user) : TestTarget(user);

    /// <summary>How often each item occurs in the training histories (index = item id).</summary>
    public long[] TrainItemCounts(IEnumerable<int>? users = null)
    {
        var counts = new long[ItemCount + 1];
        foreach (int u in users ?? Enumerable.Range(0, UserCount))
            foreach (int item in TrainItems(u)) counts[item]++;
        return counts;
    }

    /// <summary>
    /// The training users for a trial: a seeded random fraction of all users (at least one).
    /// Validation and test always use every user so that metrics stay comparable across ratios.
    /// </summary>
    public int[] SampleTrainingUsers(double ratio, int seed)
    {
        var all = Enumerable.Range(0, UserCount).ToArray();
        if (ratio >= 1) return all;
        new Random(seed).Shuffle(all);
        int keep = Math.Max(1, (int)Math.Round(ratio * UserCount));
        var chosen = all[..keep];
        Array.Sort(chosen);
        return chosen;
    }

    /// <summary>
    /// Builds a dataset from raw rows: each user's rows sorted by timestamp (ties keep file order),
    /// optional iterative k-core filtering, users with fewer than three interactions dropped and counted.
    /// Data in which no user has a training transition is an input error (<see cref="NothingToTrain"/>).
    /// </summary>
    public static SequenceDataset FromInteractions(string name, IReadOnlyList<RawInteraction> rows, int minUserInteractions = 0, int minItemInteractions = 0)
    {
        var byUser = new Dictionary<string, List<RawInteraction>>(StringComparer.Ordinal);
        var userOrder = new List<string>();
        foreach (var row in rows)
        {
            if (!byUser.TryGetValue(row.User, out var list)) { byUser[row.User] = list = []; userOrder.Add(row.User); }
            list.Add(row);
        }
        var sequences = userOrder.ToDictionary(u => u, u => byUser[u].OrderBy(r => r.Timestamp).Select(r => r.Item).ToList());

        // k-core: repeat until every remaining user and item meets its minimum.
        bool changed = minUserInteractions > 0 || minItemInteractions > 0;
        while (changed)
        {
            changed = false;
            var itemCounts = sequences.Values.SelectMany(s => s).GroupBy(i => i).ToDictionary(g => g.Key, g => g.Count());
            foreach (var user in sequences.Keys.ToList())
            {
                var kept = sequences[user].Where(i => itemCounts[i] >= minItemInteractions).ToList();
                if (kept.Count != sequences[user].Count) changed = true;
                if (kept.Count < Math.Max(minUserInteractions, 1)) { sequences.Remove(user); changed = true; }
                else sequences[user] = kept;
            }
        }

        int skipped = sequences.Count(kv => kv.Value.Count < MinimumSequenceLength);
        var itemIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var itemTokens = new List<string> { "[PAD]" };
        var users = new List<string>();
        var dense = new List<int[]>();
        foreach (var user in userOrder)
        {
            if (!sequences.TryGetValue(user, out var items) || items.Count < MinimumSequenceLength) continue;
            users.Add(user);
            dense.Add([.. items.Select(token =>
            {
                if (!itemIds.TryGetValue(token, out var id)) { itemIds[token] = id = itemTokens.Count; itemTokens.Add(token); }
                return id;
            })]);
        }
        if (dense.Count == 0) throw NothingToTrain(name);
        var dataset = new SequenceDataset(name, dense, itemTokens, users, skipped);
        return dataset.HasTrainingTransition ? dataset : throw NothingToTrain(name);
    }

    /// <summary>Leave-one-out keeps a test and a validation item; a training transition needs two more.</summary>
    public const int MinimumTrainableLength = MinimumSequenceLength + 1;

    /// <summary>Whether some user's training history holds a transition (two items), so a model can learn anything.</summary>
    public bool HasTrainingTransition => Sequences.Any(s => s.Length >= MinimumTrainableLength);

    /// <summary>The input error for data from which no model could train, naming where the data came from.</summary>
    public static DataFormatException NothingToTrain(string source) => new(source, 0,
        $"no user has at least {MinimumTrainableLength} interactions after filtering; leave-one-out needs {MinimumTrainableLength} per user " +
        "(a test item, a validation item and two training items, i.e. one training transition)");
}

public enum Split { Valid, Test }
