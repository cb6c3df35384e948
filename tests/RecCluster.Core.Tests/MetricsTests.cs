using RecCluster.Core.Evaluation;

namespace RecCluster.Core.Tests;

public class MetricsTests
{
    [Theory]
    [InlineData(MetricKind.Hr, 5, 0, 1.0)]
    [InlineData(MetricKind.Hr, 5, 4, 1.0)]
    [InlineData(MetricKind.Hr, 5, 5, 0.0)]
    [InlineData(MetricKind.Ndcg, 5, 0, 1.0)]
    [InlineData(MetricKind.Ndcg, 5, 2, 0.5)]                 // 1 / log2(2 + 2)
    [InlineData(MetricKind.Ndcg, 10, 6, 1.0 / 3.0)]          // 1 / log2(8)
    [InlineData(MetricKind.Mrr, 5, 2, 1.0 / 3.0)]
    [InlineData(MetricKind.Mrr, 5, 7, 0.0)]
    [InlineData(MetricKind.Recall, 10, 9, 1.0)]
    [InlineData(MetricKind.Precision, 5, 1, 0.2)]
    [InlineData(MetricKind.Precision, 20, 0, 0.05)]
    public void Single_rank_matches_hand_computed_value(MetricKind kind, int cutoff, long rank, double expected) =>
        Assert.Equal(expected, RankingMetrics.Value(kind, cutoff, rank), 12);

    [Fact]
    public void Accumulator_averages_over_users()
    {
        var acc = new MetricAccumulator([MetricKind.Hr, MetricKind.Ndcg, MetricKind.Mrr], [1, 5]);
        foreach (var rank in new long[] { 0, 2, 10 }) acc.AddUser([rank]);
        var m = acc.Result();
        Assert.Equal(3, acc.Users);
        Assert.Equal(1.0 / 3, m["hr@1"], 12);
        Assert.Equal(2.0 / 3, m["hr@5"], 12);
        Assert.Equal((1 + 0.5) / 3, m["ndcg@5"], 12);
        Assert.Equal((1 + 1.0 / 3) / 3, m["mrr@5"], 12);
    }

    [Fact]
    public void Weighted_ranks_give_expected_metrics()
    {
        // A user whose target is at rank 0 with probability 0.25 and at rank 3 with probability 0.75.
        var acc = new MetricAccumulator([MetricKind.Hr, MetricKind.Ndcg], [2, 5]);
        acc.Add(0, 0.25);
        acc.Add(3, 0.75);
        acc.CompleteUser();
        var m = acc.Result();
        Assert.Equal(0.25, m["hr@2"], 12);
        Assert.Equal(1.0, m["hr@5"], 12);
        Assert.Equal(0.25 + 0.75 / Math.Log2(5), m["ndcg@5"], 12);
    }

    [Theory]
    [InlineData("ndcg@10", true, MetricKind.Ndcg, 10)]
    [InlineData("HR@5", true, MetricKind.Hr, 5)]
    [InlineData("ndcg", false, MetricKind.Hr, 0)]
    [InlineData("ndcg@0", false, MetricKind.Hr, 0)]
    [InlineData("auc@10", false, MetricKind.Hr, 0)]
    public void Metric_names_parse(string text, bool ok, MetricKind kind, int cutoff)
    {
        Assert.Equal(ok, MetricName.TryParse(text, out var k, out var c));
        if (ok) { Assert.Equal(kind, k); Assert.Equal(cutoff, c); }
    }
}
