using System.Globalization;

namespace RecCluster.Core.Evaluation;

public enum MetricKind { Hr, Ndcg, Mrr, Recall, Precision }

/// <summary>Metric names as users write them: <c>hr@10</c>, <c>ndcg@20</c>, ...</summary>
public static class MetricName
{
    public static readonly IReadOnlyList<string> KindNames = ["hr", "ndcg", "mrr", "recall", "precision"];

    public static string Format(MetricKind kind, int cutoff) => $"{KindNames[(int)kind]}@{cutoff}";

    public static bool TryParseKind(string text, out MetricKind kind)
    {
        int index = KindNames.ToList().IndexOf(text.ToLowerInvariant());
        kind = (MetricKind)Math.Max(index, 0);
        return index >= 0;
    }

    public static bool TryParse(string text, out MetricKind kind, out int cutoff)
    {
        cutoff = 0;
        kind = default;
        var parts = text.Split('@');
        return parts.Length == 2 && TryParseKind(parts[0], out kind)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out cutoff) && cutoff > 0;
    }
}
