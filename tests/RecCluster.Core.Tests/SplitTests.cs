using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;

namespace RecCluster.Core.Tests;

/// <summary>Leave-one-out and temporal holdout splits, metrics over several held-out items, and the split section of a config.</summary>
public sealed class SplitTests : IDisposable
{
    private readonly TempFiles _files = new();
    public void Dispose() => _files.Dispose();

    private static readonly DataSplit Holdout = new(SplitPart.Latest(0.2), SplitPart.Latest(0.1));

    [Theory]
    // (items, validation start, test start) under test 0.2 / validation 0.1, worked by hand:
    [InlineData(10, 7, 8)]    // test from ⌊10·0.8⌋ = 8: items 8, 9; validation from ⌊8·0.9⌋ = 7: item 7
    [InlineData(20, 14, 16)]  // ⌊20·0.8⌋ = 16; ⌊16·0.9⌋ = 14: two validation items
    [InlineData(3, 1, 2)]     // ⌊2.4⌋ = 2; ⌊1.8⌋ = 1: one item in each block
    [InlineData(4, 2, 3)]     // ⌊3.2⌋ = 3; ⌊2.7⌋ = 2
    public void Holdout_blocks_start_where_the_latest_share_begins(int items, int validStart, int testStart) =>
        Assert.Equal((validStart, testStart), Holdout.Boundaries(items));

    [Fact]
    public void Short_users_keep_one_item_in_every_block_and_leave_one_out_holds_out_one_item_each()
    {
        // A large share would leave nothing before the test block; the nearest split that keeps one item a block is used.
        var half = new DataSplit(SplitPart.Latest(0.6), SplitPart.Latest(0.5));
        Assert.Equal((1, 2), half.Boundaries(3));   // ⌊3·0.4⌋ = 1 → 2 (train and validation need one each)
        Assert.Equal((2, 4), half.Boundaries(10));  // ⌊10·0.4⌋ = 4; ⌊4·0.5⌋ = 2: items 2, 3 for validation, 4..9 for test
        Assert.Equal((1, 2), DataSplit.LeaveOneOut.Boundaries(3));
        Assert.Equal((8, 9), DataSplit.LeaveOneOut.Boundaries(10));
    }

    [Fact]
    public void A_dataset_split_by_holdout_gives_each_block_its_items()
    {
        var tokens = new[] { "[PAD]" }.Concat(Enumerable.Range(1, 10).Select(i => $"i{i}")).ToList();
        var data = new SequenceDataset("t", [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [3, 2, 1]], tokens, ["a", "b"]).WithSplit(Holdout);
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], data.TrainItems(0).ToArray());
        Assert.Equal([8], data.Targets(0, Split.Valid).ToArray());
        Assert.Equal([9, 10], data.Targets(0, Split.Test).ToArray());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7], data.History(0, Split.Valid).ToArray());
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8], data.History(0, Split.Test).ToArray());
        Assert.Equal([3], data.TrainItems(1).ToArray());
        Assert.Equal([2], data.Targets(1, Split.Valid).ToArray());
        Assert.Equal([1], data.Targets(1, Split.Test).ToArray());
        Assert.True(data.HasTrainingTransition);
    }

    [Fact]
    public void A_split_that_leaves_no_user_a_training_transition_is_an_input_error_naming_the_data()
    {
        var data = new SequenceDataset("ratings.inter", [[1, 2, 3, 4]], ["[PAD]", "a", "b", "c", "d"], ["u"]);
        Assert.True(data.HasTrainingTransition);   // leave-one-out: training items 1, 2
        var error = Assert.Throws<DataFormatException>(() => data.WithSplit(new DataSplit(SplitPart.Latest(0.5), SplitPart.LastItem)));
        Assert.Contains("ratings.inter", error.Message);
        Assert.Contains("no user keeps two training items", error.Message);
    }

    [Fact]
    public void Metrics_over_several_held_out_items_match_hand_computed_values()
    {
        // Three relevant items at list positions 0, 2 and 7.
        long[] positions = [0, 2, 7];
        double idcg3 = 1 + 1 / Math.Log2(3) + 1 / Math.Log2(4);
        Assert.Equal(1, RankingMetrics.Value(MetricKind.Hr, 3, positions));
        Assert.Equal(2.0 / 3, RankingMetrics.Value(MetricKind.Precision, 3, positions), 12);
        Assert.Equal(2.0 / 3, RankingMetrics.Value(MetricKind.Recall, 3, positions), 12);
        Assert.Equal((1 + 1 / Math.Log2(4)) / idcg3, RankingMetrics.Value(MetricKind.Ndcg, 3, positions), 12);
        Assert.Equal(1, RankingMetrics.Value(MetricKind.Mrr, 3, positions));
        // At cutoff 10 all three are hits; the ideal list puts them at 0, 1, 2.
        Assert.Equal((1 + 1 / Math.Log2(4) + 1 / Math.Log2(9)) / idcg3, RankingMetrics.Value(MetricKind.Ndcg, 10, positions), 12);
        Assert.Equal(0.3, RankingMetrics.Value(MetricKind.Precision, 10, positions), 12);
        Assert.Equal(1, RankingMetrics.Value(MetricKind.Recall, 10, positions));
        // None in the top 2 but the first: MRR from the first hit.
        long[] late = [1, 5];
        Assert.Equal(0.5, RankingMetrics.Value(MetricKind.Mrr, 2, late));
        Assert.Equal(0.5, RankingMetrics.Value(MetricKind.Recall, 2, late));
        Assert.Equal(0, RankingMetrics.Value(MetricKind.Hr, 1, late));
        // One relevant item: the leave-one-out values.
        foreach (var kind in Enum.GetValues<MetricKind>())
            Assert.Equal(RankingMetrics.Value(kind, 5, 3L), RankingMetrics.Value(kind, 5, [3L]));
    }

    [Fact]
    public void Ranks_become_distinct_list_positions()
    {
        Assert.Equal([0L, 1, 2], RankingMetrics.ListPositions([2, 0, 0]));
        Assert.Equal([1L, 4], RankingMetrics.ListPositions([4, 1]));
    }

    private ExperimentConfig Load(string split) => ExperimentLoader.LoadTrial(_files.Write("c.yaml", $"""
        data: {"{"}synthetic: {"{"}users: 50, items: 40, min_length: 5, max_length: 10{"}"}{"}"}
        models: {"{"}pop: {"{"}{"}"}{"}"}
        {split}
        """));

    [Fact]
    public void The_split_section_reads_both_forms()
    {
        Assert.Equal(DataSplit.LeaveOneOut, Load("").Data.Split);
        Assert.Equal(DataSplit.LeaveOneOut, Load("split: leave_one_out").Data.Split);
        var both = "split:\n  test: {strategy: temporal_holdout, ratio: 0.2}\n  valid: {strategy: temporal_holdout, ratio: 0.1}";
        Assert.Equal(Holdout, Load(both).Data.Split);
        Assert.Equal(new DataSplit(SplitPart.Latest(0.3), SplitPart.LastItem),
            Load("split: {test: {strategy: temporal_holdout, ratio: 0.3}}").Data.Split);
    }

    [Theory]
    [InlineData("split: random", "3:8: split 'random' is not supported: write leave_one_out")]
    [InlineData("split: {test: {strategy: temporal_holdout, ratio: 1.5}}",
        "3:51: split.test.ratio must lie strictly between 0 and 1, got 1.5")]
    [InlineData("split: {test: {strategy: temporal_holdout, ratio: 0}}", "3:51: split.test.ratio must lie strictly between 0 and 1, got 0")]
    [InlineData("split: {test: {strategy: temporal_holdout, ratio: a}}",
        "3:51: split.test.ratio must be a number strictly between 0 and 1")]
    [InlineData("split: {test: {strategy: temporal_holdout}}", "3:15: split.test temporal_holdout needs a ratio")]
    [InlineData("split: {valid: {strategy: leave_one_out, ratio: 0.1}}", "3:42: split.valid.ratio does not apply to leave_one_out")]
    [InlineData("split: {test: {strategy: temporal_holdot, ratio: 0.1}}",
        "3:26: split.test.strategy 'temporal_holdot' is not known; did you mean 'temporal_holdout'?")]
    [InlineData("split: {test: {ratio: 0.1}}", "3:15: split.test needs a strategy")]
    [InlineData("split: {tset: {strategy: leave_one_out}}", "3:9: unknown key 'tset' in split")]
    public void A_bad_split_is_an_error_at_its_place(string split, string expected)
    {
        var errors = Assert.Throws<ConfigException>(() => Load(split)).Errors.Select(e => $"{e.Line}:{e.Column}: {e.Message}").ToList();
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_split_does_not_hide_the_other_problems()
    {
        var path = _files.Write("c.yaml", "data: {synthetic: {users: 50, items: 40}}\nmodels: {sasrec: {hiden_size: 8}}\nsplit: random\n");
        var errors = Assert.Throws<ConfigException>(() => ExperimentLoader.LoadTrial(path)).Errors.Select(e => e.Message).ToList();
        Assert.Contains(errors, e => e.StartsWith("split 'random' is not supported", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'hiden_size'", StringComparison.Ordinal));
    }
}
