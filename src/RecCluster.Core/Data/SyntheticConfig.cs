namespace RecCluster.Core.Data;

/// <summary>Parameters of the built-in synthetic generator (see <see cref="SyntheticGenerator"/>).</summary>
public sealed record SyntheticConfig(int Users, int Items, int Clusters, int MinLength, int MaxLength, double MarkovWeight, int Seed)
{
    public static readonly SyntheticConfig Default = new(Users: 2000, Items: 500, Clusters: 10, MinLength: 15, MaxLength: 40, MarkovWeight: 0.6, Seed: 7);

    public static readonly IReadOnlyList<string> Keys = ["users", "items", "clusters", "min_length", "max_length", "markov_weight", "seed"];

    public IEnumerable<string> Problems()
    {
        if (MinLength > MaxLength) yield return $"min_length ({MinLength}) is greater than max_length ({MaxLength})";
        if (Clusters > Items) yield return $"clusters ({Clusters}) cannot exceed items ({Items})";
        if (MaxLength > Items / 2) yield return $"max_length ({MaxLength}) must be at most half of items ({Items}) since items do not repeat within a sequence";
    }
}
