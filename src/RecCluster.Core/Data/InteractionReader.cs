using System.Globalization;

namespace RecCluster.Core.Data;

public enum DataFormat { Auto, Atomic, SasRec, Csv, MovieLens }

/// <summary>One row of an interaction file, before ids are remapped.</summary>
public readonly record struct RawInteraction(string User, string Item, double Timestamp, int Line);

/// <summary>
/// Reads interaction files in the formats users bring: RecBole atomic <c>.inter</c> (typed TSV header),
/// SASRec text (<c>user item</c>, already in time order), CSV with a header, and MovieLens <c>ratings.dat</c>.
/// Any malformed row is an error naming the file and line; blank lines are skipped.
/// </summary>
public static class InteractionReader
{
    public static DataFormat Detect(string path)
    {
        var first = File.ReadLines(path).FirstOrDefault(l => l.Trim().Length > 0)
            ?? throw new DataFormatException(path, 0, "the file is empty");
        if (path.EndsWith(".inter", StringComparison.OrdinalIgnoreCase) || first.Contains(":token") || first.Contains(":float"))
            return DataFormat.Atomic;
        if (first.Contains("::")) return DataFormat.MovieLens;
        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || first.Contains(',')) return DataFormat.Csv;
        return DataFormat.SasRec;
    }

    public static (IReadOnlyList<RawInteraction> Rows, DataFormat Format) Read(string path, DataFormat format = DataFormat.Auto)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, 0, "file not found");
        if (format == DataFormat.Auto) format = Detect(path);
        var rows = format switch
        {
            DataFormat.Atomic => ReadDelimited(path, '\t', atomic: true),
            DataFormat.Csv => ReadDelimited(path, ',', atomic: false),
            DataFormat.MovieLens => ReadMovieLens(path),
            DataFormat.SasRec => ReadSasRec(path),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        if (rows.Count == 0) throw new DataFormatException(path, 0, "the file has no interactions");
        return (rows, format);
    }

    private static IEnumerable<(string Text, int Line)> Lines(string path)
    {
        int number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (line.Trim().Length > 0) yield return (line, number);
        }
    }

    private static List<RawInteraction> ReadSasRec(string path)
    {
        var rows = new List<RawInteraction>();
        foreach (var (text, line) in Lines(path))
        {
            var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
                throw new DataFormatException(path, line, $"expected 'user item' (2 fields), found {parts.Length}: {FileText.Quote(text)}");
            rows.Add(new RawInteraction(parts[0], parts[1], rows.Count, line));
        }
        return rows;
    }

    private static List<RawInteraction> ReadMovieLens(string path)
    {
        var rows = new List<RawInteraction>();
        foreach (var (text, line) in Lines(path))
        {
            var parts = text.Split("::");
            if (parts.Length != 4)
                throw new DataFormatException(path, line, $"expected UserID::MovieID::Rating::Timestamp, found {parts.Length} fields: {FileText.Quote(text)}");
            rows.Add(new RawInteraction(parts[0].Trim(), parts[1].Trim(), ParseTime(path, line, parts[3], "Timestamp"), line));
        }
        return rows;
    }

    private static List<RawInteraction> ReadDelimited(string path, char separator, bool atomic)
    {
        using var lines = Lines(path).GetEnumerator();
        if (!lines.MoveNext()) throw new DataFormatException(path, 0, "the file is empty");
        var (headerText, headerLine) = lines.Current;
        // Atomic headers carry types ("user_id:token"); the name is the part before the colon.
        var header = headerText.Split(separator).Select(h => (atomic ? h.Split(':')[0] : h).Trim().ToLowerInvariant()).ToList();
        int Column(string name, bool required)
        {
            int index = header.IndexOf(name);
            if (index < 0 && required)
                throw new DataFormatException(path, headerLine, $"the header has no '{name}' column (columns: {FileText.QuoteAll(header)})");
            return index;
        }
        int user = Column("user_id", true), item = Column("item_id", true), time = Column("timestamp", false);
        var rows = new List<RawInteraction>();
        while (lines.MoveNext())
        {
            var (text, line) = lines.Current;
            var parts = text.Split(separator);
            if (parts.Length != header.Count)
                throw new DataFormatException(path, line, $"expected {header.Count} fields like the header, found {parts.Length}");
            string u = parts[user].Trim(), i = parts[item].Trim();
            if (u.Length == 0 || i.Length == 0) throw new DataFormatException(path, line, "empty user_id or item_id");
            double t = time >= 0 ? ParseTime(path, line, parts[time], "timestamp") : rows.Count;
            rows.Add(new RawInteraction(u, i, t, line));
        }
        return rows;
    }

    private static double ParseTime(string path, int line, string text, string column) =>
        double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var t)
            ? t : throw new DataFormatException(path, line, $"{column} {FileText.Quote(text)} is not a number");
}
