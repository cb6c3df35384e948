using RecCluster.Core.Config;
using RecCluster.Core.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace RecCluster.Training.Tests;

public class BatchingTests
{
    private static SequenceDataset Users(int count, int items = 50)
    {
        var random = new Random(4);
        var sequences = Enumerable.Range(0, count)
            .Select(_ => Enumerable.Range(0, random.Next(3, 30)).Select(_ => random.Next(1, items + 1)).ToArray()).ToList();
        return new SequenceDataset("t", sequences, [.. Enumerable.Range(0, items + 1).Select(i => $"i{i}")],
            [.. Enumerable.Range(0, count).Select(i => $"u{i}")]);
    }

    private static HashSet<string> EpochBatches(SequenceDataset data, int epochSeed, int window)
    {
        var random = new Random(epochSeed);
        var users = Enumerable.Range(0, data.UserCount).ToArray();
        random.Shuffle(users);
        return [.. SequenceBatches.Batches(data, users, 10, window, random).Select(b => string.Join(",", b.Order()))];
    }

    [Theory]
    [InlineData(0)]      // the shipped default
    [InlineData(32)]     // a window far larger than the data
    public void Two_epochs_draw_different_batches_on_data_smaller_than_the_bucketing_window(int window)
    {
        var data = Users(100);
        if (window == 0) window = (int)(long)ModelCatalog.ParamsOf("sasrec").Single(s => s.Name == "length_bucket_window").Default!;
        var first = EpochBatches(data, 1, window);
        var second = EpochBatches(data, 2, window);
        Assert.Equal(10, first.Count);
        Assert.True(first.Intersect(second).Count() <= 1, $"{first.Intersect(second).Count()} of 10 batches repeat in the next epoch");
    }

    [Fact]
    public void Length_buckets_group_users_of_similar_length_within_a_window()
    {
        var data = Users(100);
        var random = new Random(3);
        var users = Enumerable.Range(0, 100).ToArray();
        var batches = SequenceBatches.Batches(data, users, 10, 5, random);
        // Within each window of 5 batches the users are sorted by length, so batches do not overlap in length.
        foreach (var window in new[] { users[..50], users[50..] })
        {
            var ranges = batches.Where(b => window.Contains(b[0])).Select(b => (Min: b.Min(u => data.TrainItems(u).Length),
                Max: b.Max(u => data.TrainItems(u).Length))).OrderBy(r => r.Min).ToList();
            Assert.Equal(5, ranges.Count);
            for (int i = 1; i < ranges.Count; i++) Assert.True(ranges[i - 1].Max <= ranges[i].Min);
        }
    }

    [Theory]
    [InlineData(SampleStrategy.Uniform)]
    [InlineData(SampleStrategy.Popularity)]
    public void Training_negatives_are_never_items_of_the_users_own_history(SampleStrategy strategy)
    {
        var data = Users(40, items: 60);
        var users = Enumerable.Range(0, 40).ToArray();
        var sampler = NegativeSampler.Create(strategy, data.TrainItemCounts());
        var rows = SequenceBatches.Training(data, users, 50, CPU);
        var negatives = sampler.Sample(data, users, rows, 3, new Random(1), CPU);
        Assert.Equal(new long[] { rows.Positions, 3 }, negatives.shape);
        var drawn = negatives.data<long>().ToArray();
        var targets = rows.Targets.data<long>().ToArray();
        long width = rows.Targets.shape[1];
        int next = 0;
        for (int row = 0; row < users.Length; row++)
        {
            var own = data.TrainItems(users[row]).ToArray().ToHashSet();
            for (long t = 0; t < width; t++)
            {
                if (targets[row * width + t] == 0) continue;
                for (int k = 0; k < 3; k++, next++)
                    Assert.DoesNotContain((int)drawn[next], own);
            }
        }
        Assert.Equal(drawn.Length, next);
        Assert.All(drawn, d => Assert.InRange(d, 1, 60));
    }

    [Fact]
    public void Passes_sort_a_batch_by_length_and_keep_every_user_once()
    {
        var data = Users(40);
        var batch = Enumerable.Range(0, 40).ToArray();
        var passes = SequenceBatches.Passes(data, batch, 16);
        Assert.Equal([16, 16, 8], passes.Select(p => p.Length));
        Assert.Equal(batch, passes.SelectMany(p => p).Order());
        var lengths = passes.SelectMany(p => p).Select(u => data.TrainItems(u).Length).ToArray();
        Assert.Equal(lengths.Order(), lengths);
        Assert.Single(SequenceBatches.Passes(data, batch, 0));
    }

    [Fact]
    public void A_batch_trained_in_passes_gets_the_gradient_of_the_whole_batch()
    {
        // Padded keys are hidden from attention and positions count back from the most recent item, so a row's loss does
        // not depend on how wide its pass is: the passes' position-weighted gradients add up to the whole batch's.
        var data = Users(24, items: 40);
        var batch = Enumerable.Range(0, 24).ToArray();
        TorchRuntime.Seed(2);
        var p = Trials.Params("sasrec", [("hidden_size", 16L), ("n_heads", 2L), ("max_seq_length", 20L), ("loss_type", "CE"),
            ("hidden_dropout_prob", 0.0), ("attn_dropout_prob", 0.0)]);
        using var model = new Models.SasRec(data.ItemCount, p, new Models.ItemSideTensors(null, null, 0, null));
        model.train();
        Tensor[] Gradient(int passSize)
        {
            foreach (var parameter in model.parameters()) parameter.grad = null;
            foreach (var pass in SequenceBatches.Passes(data, batch, passSize))
            {
                var rows = SequenceBatches.Training(data, pass, 20, CPU);
                using var positions = ((double)rows.Positions).ToScalar();
                model.Loss(new Models.TrainingBatch(rows.Inputs, rows.Targets, null)).mul(positions).backward();
            }
            return [.. model.parameters().Select(parameter => parameter.grad!.clone())];
        }
        var whole = Gradient(0);
        var passes = Gradient(5);
        Assert.True(SequenceBatches.Passes(data, batch, 0)[0].Length == 24 && SequenceBatches.Passes(data, batch, 5).Count == 5);
        for (int i = 0; i < whole.Length; i++)
            Assert.True(whole[i].allclose(passes[i], rtol: 1e-4, atol: 1e-5), $"parameter {i}: the passes' gradient differs");
    }
}
