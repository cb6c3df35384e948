using System.Globalization;
using System.Text;

namespace RecCluster.Core.Data;

/// <summary>
/// Shows text that came from a user's file inside a message: quoted, non-printable characters escaped and
/// long text shortened, so a binary or garbled file cannot put raw bytes or a screenful into the terminal.
/// </summary>
public static class FileText
{
    public const int MaxLength = 60;
    private const int MaxValues = 8;

    /// <summary>The text in single quotes, at most <see cref="MaxLength"/> characters of it, then an ellipsis.</summary>
    public static string Quote(string text)
    {
        var shown = new StringBuilder("'");
        int kept = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (kept++ == MaxLength) return shown.Append("'…").ToString();
            shown.Append(Escape(rune));
        }
        return shown.Append('\'').ToString();
    }

    /// <summary>Several values, each quoted; after the first few, how many more there are.</summary>
    public static string QuoteAll(IReadOnlyCollection<string> values) =>
        string.Join(", ", values.Take(MaxValues).Select(Quote)) + (values.Count > MaxValues ? $", … ({values.Count} in all)" : "");

    private static string Escape(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        bool printable = rune != Rune.ReplacementChar && category is not (UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
            or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
        if (rune.Value == '\'' || rune.Value == '\\') return "\\" + rune;
        if (printable) return rune.ToString();
        return rune.Value switch
        {
            '\t' => "\\t",
            '\r' => "\\r",
            '\n' => "\\n",
            < 0x100 => $"\\x{rune.Value:x2}",
            _ => $"\\u{rune.Value:x4}",
        };
    }
}
