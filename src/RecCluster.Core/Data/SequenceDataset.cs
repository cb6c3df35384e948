namespace RecCluster.Core.Data;

/// <summary>
/// Users' time-ordered item sequences with dense ids: items are 1..ItemCount (0 is padding), each split by
/// <see cref="Split"/> into a training history, a validation block and a test block (leave-one-out by default: the last
/// item is the test target, the second-to-last the validation target). Every user has at least three interactions.
/// </summary>
public sealed class SequenceDataset
{
    public const int MinimumSequenceLength = 3;

    private readonly (int ValidStart, int TestStart)[] _boundaries;

    public SequenceDataset(string name, IReadOnlyList<int[]> sequences, IReadOnlyList<string> itemTokens, IReadOnlyList<string> userTokens,
        int skippedUsers = 0, DataSplit? split = null)
    {
        if (sequences.Count == 0) throw new ArgumentException("a dataset needs at least one user");
        if (sequences.Any(s => s.Length < MinimumSequenceLength)) throw new ArgumentException($"every sequence needs at least {MinimumSequenceLength} items");
        Name = name;
        Sequences = sequences;
        ItemTokens = itemTokens;
        UserTokens = userTokens;
        SkippedUsers = skippedUsers;
        Split = split ?? DataSplit.LeaveOneOut;
        _boundaries = [.. sequences.Select(s => Split.Boundaries(s.Length))];
    }

    public string Name { get; }
    public IReadOnlyList<int[]> Sequences { get; }
    /// <summary>Original item id of each dense id; index 0 is the padding placeholder.</summary>
    public IReadOnlyList<string> ItemTokens { get; }
    public IReadOnlyList<string> UserTokens { get; }
    /// <summary>Users dropped for having fewer than three interactions after filtering.</summary>
    public int SkippedUsers { get; }
    public DataSplit Split { get; }

    public int UserCount => Sequences.Count;
    public int ItemCount => ItemTokens.Count - 1;
    public long InteractionCount => Sequences.Sum(s => (long)s.Length);

    /// <summary>The same users and items split another way; data in which no user keeps a training transition is refused.</summary>
    public SequenceDataset WithSplit(DataSplit split)
    {
        var dataset = new SequenceDataset(Name, Sequences, ItemTokens, UserTokens, SkippedUsers, split);
        return dataset.HasTrainingTransition ? dataset : throw NothingToTrain(Name, split);
    }

    public ReadOnlySpan<int> TrainItems(int user) => Sequences[user].AsSpan(0, _boundaries[user].ValidStart);

    /// <summary>The items a model sees before predicting a split's targets: everything before the split's block.</summary>
    public ReadOnlySpan<int> History(int user, Split split) =>
        Sequences[user].AsSpan(0, split == Data.Split.Valid ? _boundaries[user].ValidStart : _boundaries[user].TestStart);

    /// <summary>The items a split holds out for the user, oldest first (one under leave-one-out).</summary>
    public ReadOnlySpan<int> Targets(int user, Split split)
    {
        var (validStart, testStart) = _boundaries[user];
        return split == Data.Split.Valid
            ? Sequences[user].AsSpan(validStart, testStart - validStart)
            : Sequences[user].AsSpan(testStart);
    }

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
    public static SequenceDataset FromInteractions(string name, IReadOnlyList<RawInteraction> rows, int minUserInteractions = 0,
        int minItemInteractions = 0, DataSplit? split = null)
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
        split ??= DataSplit.LeaveOneOut;
        if (dense.Count == 0) throw NothingToTrain(name, split);
        var dataset = new SequenceDataset(name, dense, itemTokens, users, skipped, split);
        return dataset.HasTrainingTransition ? dataset : throw NothingToTrain(name, split);
    }

    /// <summary>Leave-one-out keeps a test and a validation item; a training transition needs two more.</summary>
    public const int MinimumTrainableLength = MinimumSequenceLength + 1;

    /// <summary>Whether some user's training history holds a transition (two items), so a model can learn anything.</summary>
    public bool HasTrainingTransition => _boundaries.Any(b => b.ValidStart >= 2);

    /// <summary>The input error for data from which no model could train, naming where the data came from.</summary>
    public static DataFormatException NothingToTrain(string source, DataSplit split) => split.IsLeaveOneOut
        ? new(source, 0, $"no user has at least {MinimumTrainableLength} interactions after filtering; leave-one-out needs " +
            $"{MinimumTrainableLength} per user (a test item, a validation item and two training items, i.e. one training transition)")
        : new(source, 0, $"no user keeps two training items (one training transition) after filtering and the split ({split}); " +
            "use smaller holdout ratios or data with longer histories");
}

public enum Split { Valid, Test }
