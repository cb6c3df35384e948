using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Training.Models;
using static TorchSharp.torch;

namespace RecCluster.Training.Tests;

/// <summary>The models beside SASRec: each learns the synthetic structure, honours its hyperparameters and its own rules.</summary>
public class ModelTests
{

    private static readonly SyntheticConfig Small = new(Users: 600, Items: 80, Clusters: 4, MinLength: 8, MaxLength: 20, MarkovWeight: 0.6, Seed: 5);

    /// <summary>Per model: settings that learn the small synthetic set in seconds, and the share of the oracle's NDCG@10 required.</summary>
    public static TheoryData<string, double> Learners => new()
    {
        { ModelCatalog.GSasRec, 0.8 }, { ModelCatalog.Gru4Rec, 0.7 }, { ModelCatalog.Caser, 0.6 }, { ModelCatalog.Bert4Rec, 0.6 },
    };

    private static (string, object)[] LearnerSettings(string model) => model switch
    {
        ModelCatalog.GSasRec => [("hidden_size", 32L), ("inner_size", 64L), ("negative_samples_count", 32L), ("gbce_t", 0.75), ("learning_rate", 0.005)],
        ModelCatalog.Gru4Rec => [("embedding_size", 32L), ("hidden_size", 64L), ("dropout_prob", 0.1), ("learning_rate", 0.005)],
        ModelCatalog.Caser => [("embedding_size", 32L), ("n_h", 8L), ("n_v", 4L), ("window_length", 3L), ("dropout_prob", 0.3), ("learning_rate", 0.005)],
        ModelCatalog.Bert4Rec => [("embedding_size", 32L), ("inner_size", 64L), ("mask_rate", 0.3), ("learning_rate", 0.01), ("n_epochs", 60L), ("eval_step", 4L)],
        _ => throw new ArgumentException(model),
    };

    [Theory]
    [MemberData(nameof(Learners))]
    public void Each_model_learns_the_synthetic_structure_far_beyond_popularity(string model, double share)
    {
        (string, object)[] loop = [("n_epochs", 40L), ("batch_size", 64L), ("max_seq_length", 20L), ("eval_step", 2L), ("early_stopping_step", 3L), ("device", "cpu")];
        var settings = LearnerSettings(model);
        var result = Trials.Run(Trials.Config(Trials.Params(model, [.. loop.Where(l => settings.All(s => s.Item1 != l.Item1)), .. settings]), model, Small)).Result;
        var pop = Trials.Run(Trials.Config(Trials.Params("pop"), ModelCatalog.Popularity, Small)).Result;
        double oracle = result.Oracle!["ndcg@10"], ndcg = result.Test["ndcg@10"];
        Assert.True(ndcg >= share * oracle, $"{model} ndcg@10 {ndcg:F4} vs oracle {oracle:F4} ({ndcg / oracle:F3} < {share})");
        Assert.True(pop.Test["ndcg@10"] < 0.5 * ndcg, $"popularity {pop.Test["ndcg@10"]:F4} vs {model} {ndcg:F4}");
    }

    public static TheoryData<string, string, object> Alternatives() => new()
    {
        { ModelCatalog.GSasRec, "gbce_t", 0.2 }, { ModelCatalog.GSasRec, "negative_samples_count", 8L }, { ModelCatalog.GSasRec, "hidden_dropout_prob", 0.5 },
        { ModelCatalog.GSasRec, "sample_strategy", "popularity" },
        { ModelCatalog.Gru4Rec, "embedding_size", 8L }, { ModelCatalog.Gru4Rec, "hidden_size", 8L }, { ModelCatalog.Gru4Rec, "num_layers", 2L },
        { ModelCatalog.Gru4Rec, "dropout_prob", 0.5 }, { ModelCatalog.Gru4Rec, "weight_decay", 0.1 }, { ModelCatalog.Gru4Rec, "learning_rate", 0.02 },
        { ModelCatalog.Gru4Rec, "neg_samples", 3L }, { ModelCatalog.Gru4Rec, "loss_type", "BPR" }, { ModelCatalog.Gru4Rec, "loss_type", "BCE" },
        { ModelCatalog.Gru4Rec, "max_seq_length", 3L }, { ModelCatalog.Gru4Rec, "n_epochs", 2L },
        { ModelCatalog.Caser, "embedding_size", 8L }, { ModelCatalog.Caser, "n_h", 2L }, { ModelCatalog.Caser, "n_v", 1L },
        { ModelCatalog.Caser, "window_length", 5L }, { ModelCatalog.Caser, "dropout_prob", 0.1 }, { ModelCatalog.Caser, "weight_decay", 0.1 },
        { ModelCatalog.Caser, "learning_rate", 0.02 }, { ModelCatalog.Caser, "neg_samples", 2L }, { ModelCatalog.Caser, "max_seq_length", 3L },
        { ModelCatalog.Caser, "loss_type", "BPR" }, { ModelCatalog.Caser, "n_epochs", 2L },
        { ModelCatalog.Bert4Rec, "embedding_size", 8L }, { ModelCatalog.Bert4Rec, "inner_size", 8L }, { ModelCatalog.Bert4Rec, "n_layers", 1L },
        { ModelCatalog.Bert4Rec, "n_heads", 4L }, { ModelCatalog.Bert4Rec, "dropout_prob", 0.5 }, { ModelCatalog.Bert4Rec, "attn_dropout_prob", 0.5 },
        { ModelCatalog.Bert4Rec, "hidden_act", "relu" }, { ModelCatalog.Bert4Rec, "layer_norm_eps", 0.5 }, { ModelCatalog.Bert4Rec, "max_seq_length", 4L },
        { ModelCatalog.Bert4Rec, "mask_rate", 0.5 }, { ModelCatalog.Bert4Rec, "weight_decay", 0.1 }, { ModelCatalog.Bert4Rec, "learning_rate", 0.02 },
    };

    /// <summary>Each model's one-epoch run with the quick settings, trained once for all its alternatives.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> Baselines = new();

    [Theory]
    [MemberData(nameof(Alternatives))]
    public void Every_hyperparameter_changes_training(string model, string name, object value)
    {
        var baseline = Baselines.GetOrAdd(model, m => new Lazy<string>(() => Trials.Fingerprint(Trials.Run(Trials.Config(Trials.Params(m, Trials.Quick(m, 1)), m))))).Value;
        var changed = Trials.Run(Trials.Config(Trials.Params(model, [.. Trials.Quick(model, 1).Where(p => p.Item1 != name), (name, value)]), model));
        Assert.NotEqual(baseline, Trials.Fingerprint(changed));
    }

    [Theory]
    [InlineData(ModelCatalog.GSasRec)]
    [InlineData(ModelCatalog.Gru4Rec)]
    [InlineData(ModelCatalog.Caser)]
    [InlineData(ModelCatalog.Bert4Rec)]
    public void Same_seed_gives_identical_metrics(string model)
    {
        var a = Trials.Run(Trials.Config(Trials.Params(model, [.. Trials.Quick(model, 2), ("sample_ratio", 0.7)]), model)).Result;
        var b = Trials.Run(Trials.Config(Trials.Params(model, [.. Trials.Quick(model, 2), ("sample_ratio", 0.7)]), model)).Result;
        Assert.Equal(a.Test, b.Test);
        Assert.Equal(84, a.Data.TrainingUsers);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(1.0, 0.25)]
    [InlineData(0.5, 0.625)]
    public void Gbce_beta_runs_from_plain_bce_to_the_sampling_rate(double t, double beta) =>
        Assert.Equal(beta, GSasRec.Beta(negatives: 25, itemCount: 101, t), 12);   // alpha = 25 / 100

    [Fact]
    public void Gbce_with_beta_one_is_bce()
    {
        TorchRuntime.Seed(2);
        var hidden = randn(6, 8);
        var table = randn(20, 8);
        var targets = tensor(new long[] { 1, 4, 7, 9, 12, 19 });
        var negatives = randint(1, 20, [6, 5]);
        var bce = SequenceLosses.Compute(LossType.BCE, hidden, targets, negatives, table).item<float>();
        Assert.Equal(bce, GSasRec.Loss(hidden, targets, negatives, table, 1.0).item<float>(), 5);
        Assert.True(GSasRec.Loss(hidden, targets, negatives, table, 0.25).item<float>() < bce);
    }

    private static Tensor Row(params long[] items) => tensor(items, [1, items.Length]);

    [Fact]
    public void Gru4rec_scores_do_not_depend_on_left_padding()
    {
        TorchRuntime.Seed(1);
        using var model = new Gru4Rec(30, Trials.Params(ModelCatalog.Gru4Rec, ("embedding_size", 8L), ("hidden_size", 8L), ("num_layers", 2L)));
        model.eval();
        using var _ = no_grad();
        var one = tensor(new long[] { 3 });
        var padded = model.FullScores(Row(0, 0, 0, 0, 3, 7, 1), one);
        Assert.True(padded.allclose(model.FullScores(Row(3, 7, 1), one), rtol: 1e-5, atol: 1e-6));
        Assert.False(padded.allclose(model.FullScores(Row(7, 3, 1), one)), "the order of the history should matter");
    }

    [Fact]
    public void Bert4rec_sees_both_sides_and_scores_an_appended_mask()
    {
        TorchRuntime.Seed(1);
        using var model = new Bert4Rec(30, Trials.Params(ModelCatalog.Bert4Rec, ("embedding_size", 8L), ("inner_size", 16L), ("max_seq_length", 6L)));
        model.eval();
        using var _ = no_grad();
        var one = tensor(new long[] { 3 });
        var scores = model.FullScores(Row(0, 0, 3, 7, 1), one);
        Assert.True(scores.allclose(model.FullScores(Row(3, 7, 1), one), rtol: 1e-5, atol: 1e-5), "left padding changed the scores");
        Assert.False(scores.allclose(model.FullScores(Row(3, 9, 1), one)), "an earlier item should matter");
        // Six items fill max_seq_length: the [MASK] still gets the last position.
        Assert.Equal(new long[] { 1, 31 }, model.FullScores(Row(1, 2, 3, 4, 5, 6), one).shape);
    }

    [Fact]
    public void Caser_scores_users_left_out_of_training_with_a_zero_user_vector()
    {
        TorchRuntime.Seed(1);
        var p = Trials.Params(ModelCatalog.Caser, ("embedding_size", 8L), ("n_h", 2L), ("n_v", 2L), ("window_length", 3L));
        using var model = new Caser(30, userCount: 5, trainedUsers: [0, 2], p);
        model.eval();
        using var _ = no_grad();
        var history = Row(4, 8, 15);
        var withoutUser = model.FullScores(history, tensor(new long[] { 3 }));
        Assert.True(model.FullScores(history, tensor(new long[] { 3 }), tensor(new long[] { 1 })).allclose(withoutUser), "an untrained user should score as unknown");
        Assert.False(model.FullScores(history, tensor(new long[] { 3 }), tensor(new long[] { 2 })).allclose(withoutUser), "a trained user has its embedding");
        // Only the last L items count.
        Assert.True(model.FullScores(Row(9, 4, 8, 15), tensor(new long[] { 4 })).allclose(withoutUser));
    }
}
