using System.Globalization;

namespace RecCluster.Core.Data;

/// <summary>Categorical side features per item (e.g. genres), as dense feature ids starting at 1.</summary>
public sealed record ItemFeatures(int FeatureCount, IReadOnlyList<int[]> PerItem, int ItemsWithoutFeatures);

/// <summary>Readers for item side information: RecBole <c>.item</c> feature files and pretrained item vectors.</summary>
public static class ItemSideInformation
{
    /// <summary>
    /// Reads one <c>token</c> or <c>token_seq</c> column of a RecBole atomic <c>.item</c> file for the
    /// dataset's items. Items absent from the file get no features (counted, not an error).
    /// </summary>
    public static ItemFeatures ReadFeatures(string path, string field, SequenceDataset dataset)
    {
        using var lines = File.ReadLines(path).Select((text, i) => (text, line: i + 1)).Where(l => l.text.Trim().Length > 0).GetEnumerator();
        if (!lines.MoveNext()) throw new DataFormatException(path, 0, "the file is empty");
        var header = lines.Current.text.Split('\t').Select(h => h.Split(':')[0].Trim()).ToList();
        int itemColumn = header.IndexOf("item_id"), featureColumn = header.IndexOf(field);
        if (itemColumn < 0) throw new DataFormatException(path, 1, $"the header has no 'item_id' column (columns: {FileText.QuoteAll(header)})");
        if (featureColumn < 0) throw new DataFormatException(path, 1, $"the header has no '{field}' column (columns: {FileText.QuoteAll(header)}); set data.item_feature_field");

        var denseItem = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 1; i < dataset.ItemTokens.Count; i++) denseItem[dataset.ItemTokens[i]] = i;
        var featureIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var perItem = new int[dataset.ItemCount + 1][];
        while (lines.MoveNext())
        {
            var (text, line) = lines.Current;
            var parts = text.Split('\t');
            if (parts.Length != header.Count) throw new DataFormatException(path, line, $"expected {header.Count} fields like the header, found {parts.Length}");
            if (!denseItem.TryGetValue(parts[itemColumn].Trim(), out int item)) continue;
            perItem[item] = [.. parts[featureColumn].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(token =>
            {
                if (!featureIds.TryGetValue(token, out var id)) featureIds[token] = id = featureIds.Count + 1;
                return id;
            }).Distinct()];
        }
        int missing = 0;
        for (int i = 0; i < perItem.Length; i++)
            if (perItem[i] is null) { perItem[i] = []; if (i > 0) missing++; }
        return new ItemFeatures(featureIds.Count, perItem, missing);
    }

    /// <summary>
    /// Reads pretrained item vectors: one <c>item_token v1 v2 ... vd</c> line per item, whitespace-separated
    /// (an optional word2vec-style first line "count dim" is skipped). Returns a (ItemCount+1) x d matrix in
    /// row-major order; items without a vector stay zero.
    /// </summary>
    public static (float[] Vectors, int Dimension, int Missing) ReadEmbeddings(string path, SequenceDataset dataset)
    {
        var denseItem = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 1; i < dataset.ItemTokens.Count; i++) denseItem[dataset.ItemTokens[i]] = i;
        int dim = -1, line = 0;
        float[]? vectors = null;
        var seen = new HashSet<int>();
        foreach (var text in File.ReadLines(path))
        {
            line++;
            var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (line == 1 && parts.Length == 2 && parts.All(p => int.TryParse(p, out _))) continue;
            if (dim < 0) { dim = parts.Length - 1; vectors = new float[(dataset.ItemCount + 1) * dim]; }
            if (dim < 1 || parts.Length - 1 != dim)
                throw new DataFormatException(path, line, $"expected an item id and {Math.Max(dim, 1)} numbers, found {parts.Length} fields");
            if (!denseItem.TryGetValue(parts[0], out int item)) continue;
            for (int d = 0; d < dim; d++)
                vectors![item * dim + d] = float.TryParse(parts[d + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v : throw new DataFormatException(path, line, $"{FileText.Quote(parts[d + 1])} is not a number");
            seen.Add(item);
        }
        if (vectors is null) throw new DataFormatException(path, 0, "the file has no vectors");
        return (vectors, dim, dataset.ItemCount - seen.Count);
    }
}
