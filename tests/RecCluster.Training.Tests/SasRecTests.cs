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

    [Fact]
    public void Output_at_a_position_does_not_depend_on_later_items()
    {
        using var model = Model();
        using var _ = no_grad();
        var a = tensor(new long[] { 3, 7, 1, 9, 4, 12, 5, 2 }, [1, 8]);
        var b = tensor(new long[] { 3, 7, 1, 9, 20, 21, 22, 23 }, [1, 8]);   // positions 4.. changed
        var ha = model.Encode(a);
        var hb = model.Encode(b);
        Assert.True(ha.narrow(1, 0, 4).allclose(hb.narrow(1, 0, 4), rtol: 1e-5, atol: 1e-6), "the future leaked into earlier positions");
        Assert.False(ha.narrow(1, 4, 4).allclose(hb.narrow(1, 4, 4)), "later positions should see their own inputs");
        // And the earlier items do influence later outputs.
        var c = tensor(new long[] { 8, 7, 1, 9, 4, 12, 5, 2 }, [1, 8]);
        Assert.False(model.Encode(c).narrow(1, 7, 1).allclose(ha.narrow(1, 7, 1)));
    }

    [Fact]
    public void Training_mode_attention_with_dropout_is_causal_too()
    {
        using var model = Model(("attn_dropout_prob", 0.3), ("hidden_dropout_prob", 0.1));
        model.train();
        using var _ = no_grad();
        var a = tensor(new long[] { 3, 7, 1, 9, 4, 12, 5, 2 }, [1, 8]);
        var b = tensor(new long[] { 3, 7, 1, 9, 20, 21, 22, 23 }, [1, 8]);
        TorchRuntime.Seed(5);   // the same dropout masks for both passes
        var ha = model.Encode(a);
        TorchRuntime.Seed(5);
        var hb = model.Encode(b);
        Assert.True(ha.narrow(1, 0, 4).allclose(hb.narrow(1, 0, 4), rtol: 1e-5, atol: 1e-6), "the future leaked into earlier positions");
        TorchRuntime.Seed(6);
        Assert.False(model.Encode(a).allclose(ha), "dropout should make training passes differ");
    }

    [Fact]
    public void Padding_after_the_sequence_does_not_change_its_scores()
    {
        using var model = Model();
        using var _ = no_grad();
        var shortInput = tensor(new long[] { 3, 7, 1, 0, 0, 0, 0, 0 }, [1, 8]);
        var other = tensor(new long[] { 3, 7, 1, 0, 0, 0, 0, 0 }, [1, 8]).narrow(1, 0, 3);
        var scores = model.FullScores(shortInput, tensor(new long[] { 3 }));
        var trimmed = model.FullScores(other, tensor(new long[] { 3 }));
        Assert.True(scores.allclose(trimmed, rtol: 1e-5, atol: 1e-5));
        var candidates = tensor(new long[] { 4, 9, 17 }, [1, 3]);
        Assert.True(model.CandidateScores(shortInput, tensor(new long[] { 3 }), candidates)
            .allclose(scores.gather(1, candidates), rtol: 1e-5, atol: 1e-5));
    }
}
