using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;

namespace RecCluster.Core.Tests;

public class SyntheticTests
{
    private static readonly SyntheticConfig Small = new(Users: 200, Items: 60, Clusters: 4, MinLength: 5, MaxLength: 12, MarkovWeight: 0.6, Seed: 3);

    [Fact]
    public void Generation_is_deterministic_per_seed()
    {
        var a = new SyntheticGenerator(Small).Dataset;
        var b = new SyntheticGenerator(Small).Dataset;
        var c = new SyntheticGenerator(Small with { Seed = 4 }).Dataset;
        Assert.Equal(a.Sequences, b.Sequences);
        Assert.NotEqual(a.Sequences, c.Sequences);
        Assert.All(a.Sequences, s => Assert.Equal(s.Length, s.Distinct().Count()));  // no repeats
        Assert.All(a.Sequences, s => Assert.InRange(s.Length, 5, 12));
    }

    [Fact]
    public void Next_item_distribution_is_a_distribution_over_unseen_items()
    {
        var generator = new SyntheticGenerator(Small);
        var history = generator.Dataset.History(0, Split.Test);
        var p = generator.NextDistribution(0, history);
        Assert.Equal(1.0, p.Sum(), 9);
        Assert.Equal(0, p[0]);
        foreach (var seen in history) Assert.Equal(0, p[seen]);
        Assert.True(p[generator.Dataset.Targets(0, Split.Test)[0]] > 0);
    }

    [Fact]
    public void Oracle_beats_any_other_ranking_in_expectation()
    {
        var generator = new SyntheticGenerator(Small);
        var data = generator.Dataset;
        MetricKind[] kinds = [MetricKind.Hr, MetricKind.Ndcg];
        int[] cutoffs = [1, 5, 10];
        var oracle = generator.OracleMetrics(Split.Test, kinds, cutoffs);

        // The popularity ranking's expected metrics under the same true distribution.
        var counts = data.TrainItemCounts();
        var popularity = new MetricAccumulator(kinds, cutoffs);
        for (int u = 0; u < data.UserCount; u++)
        {
            var history = data.History(u, Split.Test).ToArray();
            var p = generator.NextDistribution(u, history);
            var order = Enumerable.Range(1, data.ItemCount).Except(history).OrderByDescending(i => counts[i]).ToArray();
            for (int r = 0; r < order.Length; r++) popularity.Add(r, p[order[r]]);
            popularity.CompleteUser();
        }
        var pop = popularity.Result();
        foreach (var name in oracle.Keys) Assert.True(oracle[name] > pop[name], $"{name}: oracle {oracle[name]} vs popularity {pop[name]}");
        Assert.True(oracle["hr@1"] <= oracle["hr@5"] && oracle["hr@5"] <= oracle["hr@10"]);
    }

    [Fact]
    public void Realised_targets_agree_with_the_oracle_hit_rate()
    {
        // The oracle's expected HR@10 should match how often the sampled test item lands in its top 10.
        var generator = new SyntheticGenerator(Small with { Users = 3000 });
        var data = generator.Dataset;
        int hits = 0;
        for (int u = 0; u < data.UserCount; u++)
        {
            var p = generator.NextDistribution(u, data.History(u, Split.Test));
            var top = Enumerable.Range(1, data.ItemCount).OrderByDescending(i => p[i]).Take(10);
            if (top.Contains(data.Targets(u, Split.Test)[0])) hits++;
        }
        double expected = generator.OracleMetrics(Split.Test, [MetricKind.Hr], [10])["hr@10"];
        Assert.InRange((double)hits / data.UserCount, expected - 0.03, expected + 0.03);
    }
}
