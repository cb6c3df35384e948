using System.CommandLine;

namespace RecCluster.Cli;

/// <summary>Range checks on numeric flags, phrased once.</summary>
internal static class OptionRules
{
    /// <summary>
    /// Refuses values below <paramref name="min"/> (or above <paramref name="max"/>). The check is skipped when the value did
    /// not parse: the parser has already reported that, and reading the value would throw.
    /// </summary>
    public static Option<T> InRange<T>(this Option<T> option, T min, T? max, string message) where T : struct, IComparable<T>
    {
        option.Validators.Add(r =>
        {
            T value;
            try { value = r.GetValueOrDefault<T>(); }
            catch (InvalidOperationException) { return; }
            if (value.CompareTo(min) < 0 || (max is { } high && value.CompareTo(high) > 0)) r.AddError(message);
        });
        return option;
    }

    /// <summary>The same for an optional flag: no value passes.</summary>
    public static Option<T?> InRange<T>(this Option<T?> option, T min, string message) where T : struct, IComparable<T>
    {
        option.Validators.Add(r =>
        {
            T? value;
            try { value = r.GetValueOrDefault<T?>(); }
            catch (InvalidOperationException) { return; }
            if (value is { } v && v.CompareTo(min) < 0) r.AddError(message);
        });
        return option;
    }
}
