using System.Globalization;

namespace RecCluster.Core.Config;

public enum ParamKind { Int, Float, Bool, Choice }

/// <summary>
/// One hyperparameter a model accepts: its type, allowed range or choices, default and meaning.
/// A <c>null</c> default means the value is derived from other hyperparameters (see the model's docs).
/// </summary>
public sealed record ParamSpec(
    string Name,
    ParamKind Kind,
    ParamValue? Default,
    string Help,
    double? Min = null,
    double? Max = null,
    bool MinExclusive = false,
    bool MaxExclusive = false,
    IReadOnlyList<string>? Choices = null)
{
    /// <summary>
    /// Checks a raw scalar parsed from YAML or JSON (long, double, bool or string) and gives it this parameter's
    /// kind; returns an error message or null.
    /// </summary>
    public string? TryNormalize(object value, out ParamValue normalized)
    {
        normalized = false;
        switch (Kind)
        {
            case ParamKind.Int:
                // A whole number too large for a long reads as a double: report the range, not its type.
                if (value is double whole && double.IsInteger(whole) && CheckRange(whole) is { } outside) return outside;
                if (value is not long l) return $"'{Name}' must be a whole number, got {Describe(value)}";
                normalized = l;
                return CheckRange(l);
            case ParamKind.Float:
                double d = value switch { long x => x, double x => x, _ => double.NaN };
                if (value is not (long or double)) return $"'{Name}' must be a number, got {Describe(value)}";
                normalized = d;
                return CheckRange(d);
            case ParamKind.Bool:
                if (value is not bool flag) return $"'{Name}' must be true or false, got {Describe(value)}";
                normalized = flag;
                return null;
            case ParamKind.Choice:
                var text = value switch { string s => s, bool b => b ? "true" : "false", _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "" };
                var match = Choices!.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase));
                if (match is null) return $"'{Name}' must be one of {string.Join(", ", Choices!)}, got '{text}' ({Suggestions.DidYouMean(text, Choices!)})";
                normalized = match;
                return null;
            default:
                throw new InvalidOperationException(Kind.ToString());
        }
    }

    private string? CheckRange(double v)
    {
        bool low = Min is null || (MinExclusive ? v > Min : v >= Min);
        bool high = Max is null || (MaxExclusive ? v < Max : v <= Max);
        return low && high ? null : $"'{Name}' must be in {RangeText()}, got {v.ToString(CultureInfo.InvariantCulture)}";
    }

    public string RangeText() =>
        $"{(MinExclusive ? "(" : "[")}{Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"}, {Max?.ToString(CultureInfo.InvariantCulture) ?? "inf"}{(MaxExclusive ? ")" : "]")}";

    private static string Describe(object value) => value switch
    {
        string s => $"'{s}'",
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "null",
    };
}
