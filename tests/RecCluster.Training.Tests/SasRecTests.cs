using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Training.Models;
using static TorchSharp.torch;

namespace RecCluster.Training.Tests;

public class SasRecTests
{
    private static SasRec Model(params (string, object)[] extra)
    {
        TorchRuntime.Seed(1);
        var p = Trials.Params("sasrec", [("hidden_size", 16L), ("n_heads", 2L), ("max_seq_length", 8L), .. extra]);
        var model = new SasRec(30, p, new ItemSideTensors(null, null, 0, null));
        model.eval();
        return model;
    }

    private static Tensor Row(params long[] items) => tensor(items, [1, items.Length]);

    [Fact]
    public void Output_at_a_position_does_not_depend_on_later_items()
    {
        using var model = Model();
        using var _ = no_grad();
        var a = Row(3, 7, 1, 9, 4, 12, 5, 2);
        var b = Row(3, 7, 1, 9, 20, 21, 22, 23);   // positions 4.. changed
        var ha = model.Encode(a);
        var hb = model.Encode(b);
        Assert.True(ha.narrow(1, 0, 4).allclose(hb.narrow(1, 0, 4), rtol: 1e-5, atol: 1e-6), "the future leaked into earlier positions");
        Assert.False(ha.narrow(1, 4, 4).allclose(hb.narrow(1, 4, 4)), "later positions should see their own inputs");
        // And the earlier items do influence later outputs.
        Assert.False(model.Encode(Row(8, 7, 1, 9, 4, 12, 5, 2)).narrow(1, 7, 1).allclose(ha.narrow(1, 7, 1)));
    }

    [Fact]
    public void Training_mode_attention_with_dropout_is_causal_too()
    {
        using var model = Model(("attn_dropout_prob", 0.3), ("hidden_dropout_prob", 0.1));
        model.train();
        using var _ = no_grad();
        var a = Row(3, 7, 1, 9, 4, 12, 5, 2);
        var b = Row(3, 7, 1, 9, 20, 21, 22, 23);
        TorchRuntime.Seed(5);   // the same dropout masks for both passes
        var ha = model.Encode(a);
        TorchRuntime.Seed(5);
        var hb = model.Encode(b);
        Assert.True(ha.narrow(1, 0, 4).allclose(hb.narrow(1, 0, 4), rtol: 1e-5, atol: 1e-6), "the future leaked into earlier positions");
        TorchRuntime.Seed(6);
        Assert.False(model.Encode(a).allclose(ha), "dropout should make training passes differ");
    }

    [Fact]
    public void Left_padding_of_any_width_leaves_the_scores_unchanged()
    {
        // Positions count back from the most recent item and padding is hidden from attention, so a history scores
        // the same alone or beside a longer one.
        using var model = Model();
        using var _ = no_grad();
        var padded = Row(0, 0, 0, 0, 0, 3, 7, 1);
        var alone = Row(3, 7, 1);
        var scores = model.FullScores(padded, tensor(new long[] { 3 }));
        Assert.True(scores.allclose(model.FullScores(alone, tensor(new long[] { 3 })), rtol: 1e-5, atol: 1e-5));
        var candidates = tensor(new long[] { 4, 9, 17 }, [1, 3]);
        Assert.True(model.CandidateScores(padded, tensor(new long[] { 3 }), candidates)
            .allclose(scores.gather(1, candidates), rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void History_batches_put_the_most_recent_item_last_for_short_and_long_users()
    {
        var shortUser = Enumerable.Range(1, 7).ToArray();
        var longUser = Enumerable.Range(1, 42).Select(i => i % 30 + 1).ToArray();
        var data = new SequenceDataset("t", [shortUser, longUser], [.. Enumerable.Range(0, 31).Select(i => $"i{i}")], ["a", "b"]);
        var (inputs, lengths) = SequenceBatches.History(data, [0, 1], Split.Test, 40, CPU);
        Assert.Equal(new long[] { 2, 40 }, inputs.shape);
        Assert.Equal(new long[] { shortUser[^2], longUser[^2] }, inputs.select(1, -1).data<long>().ToArray());
        Assert.Equal(34, inputs[0].narrow(0, 0, 34).eq(0).sum().item<long>());   // the short history is padded on the left
        Assert.Equal(new long[] { 6, 40 }, lengths.data<long>().ToArray());
        var rows = SequenceBatches.Training(data, [0, 1], 40, CPU);
        Assert.Equal(shortUser[^3], rows.Targets[0, -1].item<long>());   // training ends before validation and test
        Assert.Equal(4 + 39, rows.Positions);
    }

    [Fact]
    public void The_most_recent_item_gets_the_same_position_embedding_for_histories_of_length_5_and_40()
    {
        TorchRuntime.Seed(1);
        var p = Trials.Params("sasrec", [("hidden_size", 16L), ("n_heads", 2L), ("max_seq_length", 50L)]);
        using var model = new SasRec(60, p, new ItemSideTensors(null, null, 0, null));
        using var _ = no_grad();
        var five = model.InputEmbeddings(Row([.. Enumerable.Range(36, 5).Select(i => (long)i)]));
        var forty = model.InputEmbeddings(Row([.. Enumerable.Range(1, 40).Select(i => (long)i)]));
        Assert.True(five.select(1, -1).allclose(forty.select(1, -1)));
    }

    [Fact]
    public void Input_item_embeddings_are_scaled_by_the_square_root_of_the_width()
    {
        using var model = Model();
        using var _ = no_grad();
        var weights = model.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        var input = model.InputEmbeddings(Row(4, 9));
        var expected = weights["_items.weight"][tensor(new long[] { 4, 9 })].mul(4.0).add(weights["_positions.weight"].narrow(0, 6, 2));
        Assert.True(input[0].allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Matrices_start_xavier_normal_not_uniform()
    {
        TorchRuntime.Seed(3);
        var p = Trials.Params("sasrec", [("hidden_size", 64L), ("max_seq_length", 8L)]);
        using var model = new SasRec(2000, p, new ItemSideTensors(null, null, 0, null));
        var table = model.named_parameters().Single(kv => kv.name == "_items.weight").parameter.narrow(0, 1, 2000).to_type(ScalarType.Float64);
        double std = table.std().item<double>();
        var z = table.div(std);
        double kurtosis = z.pow(4).mean().item<double>();   // 3 for a normal distribution, 1.8 for a uniform one
        Assert.Equal(Math.Sqrt(2.0 / (2001 + 64)), std, 3);
        Assert.InRange(kurtosis, 2.8, 3.2);
    }

    [Fact]
    public void Hidden_states_leave_through_a_final_layer_norm()
    {
        using var model = Model();
        using var _ = no_grad();
        var h = model.Encode(Row(3, 7, 1, 9));
        Assert.True(h.mean([-1]).abs().max().item<float>() < 1e-4, "each state should have zero mean");
        Assert.True(h.std(-1, unbiased: false).sub(1.0).abs().max().item<float>() < 1e-3, "each state should have unit variance");
    }
}
