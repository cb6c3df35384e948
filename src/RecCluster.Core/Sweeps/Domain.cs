using RecCluster.Core.Config;

namespace RecCluster.Core.Sweeps;

/// <summary>
/// The values one hyperparameter may take in a sweep: a fixed value or a search space.
/// Spaces are written as <c>{grid: [...]}</c> (or a bare list), <c>{choice: [...]}</c>, <c>{uniform: [lo, hi]}</c>,
/// <c>{quniform: [lo, hi, q]}</c>, <c>{loguniform: [lo, hi]}</c> or <c>{randint: [lo, hi]}</c> (hi exclusive).
/// </summary>
public abstract record Domain
{
    public static readonly IReadOnlyList<string> Kinds = ["grid", "choice", "uniform", "quniform", "loguniform", "randint"];

    /// <summary>Draws a value, already normalised to the parameter's type.</summary>
    public abstract ParamValue Sample(Random random, ParamSpec spec);
}

public sealed record FixedDomain(ParamValue Value) : Domain
{
    public override ParamValue Sample(Random random, ParamSpec spec) => Value;
}

/// <summary>Finite values: every one is tried by grid search; drawn uniformly by random search.</summary>
public sealed record CategoricalDomain(IReadOnlyList<ParamValue> Values, bool IsGrid) : Domain
{
    public override ParamValue Sample(Random random, ParamSpec spec) => Values[random.Next(Values.Count)];
}

/// <summary>A numeric range: uniform, quantised (step Q) or log-uniform; integers for int parameters.</summary>
public sealed record RangeDomain(string Kind, double Low, double High, double Q = 0) : Domain
{
    public bool IsLog => Kind == "loguniform";

    public override ParamValue Sample(Random random, ParamSpec spec) => FromInternal(ToInternal(Low) + random.NextDouble() * (ToInternal(High) - ToInternal(Low)), spec);

    /// <summary>The space a Parzen estimator works in: log for log-uniform ranges.</summary>
    public double ToInternal(double v) => IsLog ? Math.Log(v) : v;

    public ParamValue FromInternal(double x, ParamSpec spec)
    {
        double v = IsLog ? Math.Exp(x) : x;
        v = Math.Clamp(v, Low, High);
        if (Kind == "quniform") v = Math.Clamp(Low + Math.Round((v - Low) / Q) * Q, Low, High);
        if (Kind == "randint") return (long)Math.Min(Math.Floor(v), High - 1);
        return spec.Kind == ParamKind.Int ? (long)Math.Round(v) : (ParamValue)v;
    }
}
