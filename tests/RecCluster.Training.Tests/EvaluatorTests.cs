using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Evaluation;
using RecCluster.Training.Models;
using static TorchSharp.torch;

namespace RecCluster.Training.Tests;

public class EvaluatorTests
{
    /// <summary>Scores every item by a fixed table, whatever the history.</summary>
    private sealed class FixedScores(float[] scores) : SequentialRecommender("fixed")
    {
        public override Tensor Loss(TrainingBatch batch) => throw new NotSupportedException();
        public override Tensor FullScores(Tensor inputs, Tensor lengths) => tensor(scores).unsqueeze(0).expand(inputs.shape[0], -1);
        public override Tensor CandidateScores(Tensor inputs, Tensor lengths, Tensor candidates) => tensor(scores)[candidates];
    }

    private static readonly string[] Tokens = ["[PAD]", "a", "b", "c", "d", "e", "f"];

    [Fact]
    public void Full_ranking_excludes_seen_items_and_ranks_by_hand()
    {
        // User 0: history [1, 2], valid 3, test 4. User 1: history [5, 6], valid 1, test 2.
        var data = new SequenceDataset("t", [[1, 2, 3, 4], [5, 6, 1, 2]], Tokens, ["u0", "u1"]);
        //                          pad  a   b   c   d   e   f
        var model = new FixedScores([99, 10, 9, 5, 7, 1, 8]);
        var config = new EvaluationConfig(EvalProtocol.Full, 0, [1, 3], [MetricKind.Hr, MetricKind.Ndcg, MetricKind.Mrr]);
        var metrics = new Evaluator(data, config, 10, 1, CPU, 1).Evaluate(model, Split.Test);
        // User 0, test d (7): seen a, b, c excluded; above: f (8) -> rank 1.
        // User 1, test b (9): seen e, f, a excluded; above: nobody -> rank 0.
        Assert.Equal(0.5, metrics["hr@1"], 9);
        Assert.Equal(1.0, metrics["hr@3"], 9);
        Assert.Equal((1 / Math.Log2(3) + 1) / 2, metrics["ndcg@3"], 9);
        Assert.Equal((0.5 + 1) / 2, metrics["mrr@3"], 9);
        // Validation: user 0 target c (5) with a, b seen: above d (7), f (8) -> rank 2; user 1 target a (10) -> rank 0.
        var valid = new Evaluator(data, config, 10, 2, CPU, 1).Evaluate(model, Split.Valid);
        Assert.Equal((1 / Math.Log2(4) + 1) / 2, valid["ndcg@3"], 9);
    }

    [Fact]
    public void Ties_count_as_half_above_the_target()
    {
        var data = new SequenceDataset("t", [[1, 2, 3]], Tokens, ["u0"]);
        var model = new FixedScores([0, 0, 0, 4, 4, 4, 4]);  // target c tied with d, e, f
        var config = new EvaluationConfig(EvalProtocol.Full, 0, [1, 2], [MetricKind.Hr]);
        var metrics = new Evaluator(data, config, 10, 8, CPU, 1).Evaluate(model, Split.Test);
        Assert.Equal(0.0, metrics["hr@1"]);   // 3 ties -> rank 1
        Assert.Equal(1.0, metrics["hr@2"]);
    }

    [Fact]
    public void Sampled_protocol_ranks_among_unseen_negatives_only()
    {
        // 6 items, history [1, 2], test 3: the 3 unseen non-target items are all sampled.
        var data = new SequenceDataset("t", [[1, 2, 3]], Tokens, ["u0"]);
        var model = new FixedScores([0, 100, 100, 5, 7, 1, 2]);   // seen a, b outscore the target but never compete
        var config = new EvaluationConfig(EvalProtocol.Sampled, 3, [1, 2], [MetricKind.Hr]);
        var metrics = new Evaluator(data, config, 10, 8, CPU, 1).Evaluate(model, Split.Test);
        Assert.Equal(0.0, metrics["hr@1"]);   // d (7) is above c (5)
        Assert.Equal(1.0, metrics["hr@2"]);
        var tooMany = new EvaluationConfig(EvalProtocol.Sampled, 4, [1], [MetricKind.Hr]);
        Assert.Throws<InvalidOperationException>(() => new Evaluator(data, tooMany, 10, 8, CPU, 1).Evaluate(model, Split.Test));
    }

    [Theory]
    [InlineData(EvalProtocol.Full)]
    [InlineData(EvalProtocol.Sampled)]
    public void Several_held_out_items_are_ranked_together_by_hand(EvalProtocol protocol)
    {
        // Test: the latest half of user 0's items, user 1's last; validation: the item before. In one batch, so user 1's
        // one target is padded to user 0's three.
        var split = new DataSplit(SplitPart.Latest(0.5), SplitPart.LastItem);
        string[] tokens = ["[PAD]", "a", "b", "c", "d", "e", "f", "g", "h"];
        var data = new SequenceDataset("t", [[1, 2, 3, 4, 5, 6], [8, 7, 1]], tokens, ["u0", "u1"]).WithSplit(split);
        //                          pad  a   b  c  d  e  f  g    h
        var model = new FixedScores([99, 10, 9, 5, 7, 1, 8, 7.5f, 0]);
        // Sampled: user 0's only unseen non-targets are g and h, so both are drawn; user 1's target a outscores everything.
        var config = new EvaluationConfig(protocol, 2, [1, 3], [MetricKind.Hr, MetricKind.Precision, MetricKind.Recall, MetricKind.Ndcg, MetricKind.Mrr]);
        var metrics = new Evaluator(data, config, 10, 2, CPU, 1).Evaluate(model, Split.Test);
        // User 0: a, b, c seen; ranked f 8, g 7.5, d 7, e 1 (h 0): targets d, e, f at positions 2, 3, 0.
        // User 1: g, h seen; target a first.
        double idcg3 = 1 + 1 / Math.Log2(3) + 1 / Math.Log2(4);
        Assert.Equal(1, metrics["hr@1"], 9);
        Assert.Equal((1 + 1) / 2.0, metrics["precision@1"], 9);
        Assert.Equal((1 / 3.0 + 1) / 2, metrics["recall@1"], 9);
        Assert.Equal(((2 / 3.0) + (1 / 3.0)) / 2, metrics["precision@3"], 9);
        Assert.Equal(((2 / 3.0) + 1) / 2, metrics["recall@3"], 9);
        Assert.Equal(((1 + 1 / Math.Log2(4)) / idcg3 + 1) / 2, metrics["ndcg@3"], 9);
        Assert.Equal(1, metrics["mrr@3"], 9);
        if (protocol == EvalProtocol.Sampled)
        {
            var tooMany = config with { SampledNegatives = 3 };
            Assert.Throws<InvalidOperationException>(() => new Evaluator(data, tooMany, 10, 2, CPU, 1).Evaluate(model, Split.Test));
        }
    }
}
