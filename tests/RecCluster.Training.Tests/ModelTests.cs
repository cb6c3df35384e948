using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Training.Models;
using static TorchSharp.torch;

namespace RecCluster.Training.Tests;

/// <summary>The models beside SASRec: each learns the synthetic structure, honours its hyperparameters and its own rules.</summary>
public class ModelTests
{

    /// <summary>Small enough to learn in seconds; six clusters keep popularity far below the oracle (0.23 of its NDCG@10).</summary>
    internal static readonly SyntheticConfig Small =
        new(Users: 300, Items: 60, Clusters: 6, MinLength: 8, MaxLength: 16, MarkovWeight: 0.6, Seed: 5);

    private static readonly Lazy<TrialResult> SmallPopularity =
        new(() => Trials.Run(Trials.Config(Trials.Params("pop"), ModelCatalog.Popularity, Small)).Result);

    /// <summary>Per model: the share of the oracle's NDCG@10 required on <see cref="Small"/>.</summary>
    public static TheoryData<string, double> Learners => new()
    {
        { ModelCatalog.GSasRec, 0.75 }, { ModelCatalog.Gru4Rec, 0.7 }, { ModelCatalog.Caser, 0.6 }, { ModelCatalog.Bert4Rec, 0.4 },
    };

    /// <summary>Settings that learn <see cref="Small"/> within 12 epochs (BERT4Rec: more, smaller steps; see README).</summary>
    private static (string, object)[] LearnerSettings(string model) => model switch
    {
        ModelCatalog.GSasRec => [("hidden_size", 32L), ("inner_size", 64L), ("negative_samples_count", 16L), ("learning_rate", 0.01)],
        ModelCatalog.Gru4Rec => [("embedding_size", 32L), ("hidden_size", 64L), ("dropout_prob", 0.1), ("learning_rate", 0.01)],
        ModelCatalog.Caser =>
            [("embedding_size", 32L), ("n_h", 8L), ("n_v", 4L), ("window_length", 3L), ("dropout_prob", 0.3), ("learning_rate", 0.01)],
        ModelCatalog.Bert4Rec => [("embedding_size", 32L), ("inner_size", 64L), ("mask_rate", 0.3), ("learning_rate", 0.003), ("n_epochs", 60L),
            ("batch_size", 16L), ("eval_step", 10L), ("early_stopping_step", 0L)],
        _ => throw new ArgumentException(model),
    };

    [Theory]
    [MemberData(nameof(Learners))]
    public void Each_model_learns_the_synthetic_structure_far_beyond_popularity(string model, double share)
    {
        (string, object)[] loop =
            [("n_epochs", 12L), ("batch_size", 32L), ("max_seq_length", 16L), ("eval_step", 2L), ("early_stopping_step", 2L), ("device", "cpu")];
        var settings = LearnerSettings(model);
        var config = Trials.Config(Trials.Params(model, [.. loop.Where(l => settings.All(s => s.Item1 != l.Item1)), .. settings]), model, Small);
        // One thread: these models gain nothing from two, and on a loaded machine two threads ran many times slower.
        var result = TrialRunner.Run(config, new TrialOptions(Threads: 1));
        var pop = SmallPopularity.Value;
        double oracle = result.Oracle!["ndcg@10"], ndcg = result.Test["ndcg@10"];
        Assert.True(ndcg >= share * oracle, $"{model} ndcg@10 {ndcg:F4} vs oracle {oracle:F4} ({ndcg / oracle:F3} < {share})");
        Assert.True(pop.Test["ndcg@10"] < 0.5 * ndcg, $"popularity {pop.Test["ndcg@10"]:F4} vs {model} {ndcg:F4}");
    }

    /// <summary>
    /// Each model's own hyperparameters by family: a change is the hyperparameter under test, then any it needs to act
    /// (set on both sides of the comparison). The trainer's and the data's hyperparameters (<see cref="Shared"/>) are read
    /// the same way for every model and are tested on SASRec (TrainerTests).
    /// </summary>
    private static readonly Dictionary<(string Model, string Family), (string, object)[][]> Families = new()
    {
        [(ModelCatalog.GSasRec, "gbce")] = [[("gbce_t", 0.2)], [("negative_samples_count", 8L)], [("sample_strategy", "popularity")]],
        [(ModelCatalog.GSasRec, "network")] = [[("hidden_size", 8L)], [("inner_size", 8L)], [("n_layers", 1L)], [("n_heads", 4L)],
            [("hidden_act", "relu")], [("layer_norm_eps", 0.5)], [("max_seq_length", 3L)], [("use_candidate_embeddings", false)],
            [("initializer", "normal")], [("initializer_range", 0.3), ("initializer", "normal")]],
        [(ModelCatalog.GSasRec, "regularisation")] = [[("hidden_dropout_prob", 0.5)], [("attn_dropout_prob", 0.5)], [("mask_rate", 0.4)]],
        [(ModelCatalog.Gru4Rec, "network")] = [[("embedding_size", 8L)], [("hidden_size", 8L)], [("num_layers", 2L)], [("max_seq_length", 3L)],
            [("dropout_prob", 0.5)]],
        [(ModelCatalog.Gru4Rec, "loss")] = [[("loss_type", "BPR")], [("loss_type", "BCE")], [("neg_samples", 3L)],
            [("sample_strategy", "popularity"), ("loss_type", "BPR")]],
        [(ModelCatalog.Caser, "network")] = [[("embedding_size", 8L)], [("n_h", 2L)], [("n_v", 1L)], [("window_length", 5L)],
            [("max_seq_length", 3L)], [("dropout_prob", 0.1)]],
        [(ModelCatalog.Caser, "loss")] = [[("loss_type", "BPR")], [("loss_type", "BCE")], [("neg_samples", 2L)],
            [("sample_strategy", "popularity"), ("loss_type", "BPR")]],
        [(ModelCatalog.Bert4Rec, "network")] = [[("embedding_size", 8L)], [("inner_size", 8L)], [("n_layers", 1L)], [("n_heads", 4L)],
            [("hidden_act", "relu")], [("layer_norm_eps", 0.5)], [("max_seq_length", 4L)]],
        [(ModelCatalog.Bert4Rec, "regularisation")] = [[("dropout_prob", 0.5)], [("attn_dropout_prob", 0.5)], [("mask_rate", 0.5)]],
    };

    /// <summary>Read by the trial runner, trainer and evaluator alike for every model; TrainerTests covers them on SASRec.</summary>
    private static readonly HashSet<string> Shared =
    [
        "sample_seed", "sample_ratio", "eval_batch_size", "device", "n_epochs", "batch_size", "learning_rate", "optimizer", "weight_decay",
        "adam_beta1", "adam_beta2", "length_bucket_window", "micro_batch_size", "eval_step", "early_stopping_step",
    ];

    /// <summary>SASRec's side information, read by the same SasRec constructor for gSASRec; TrainerTests covers it.</summary>
    private static readonly HashSet<string> SideInformation = ["append_item_features", "append_item_embeddings"];

    public static TheoryData<string, string> FamilyCases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var (model, family) in Families.Keys) cases.Add(model, family);
        return cases;
    }

    [Theory]
    [InlineData(ModelCatalog.GSasRec)]
    [InlineData(ModelCatalog.Gru4Rec)]
    [InlineData(ModelCatalog.Caser)]
    [InlineData(ModelCatalog.Bert4Rec)]
    public void Every_listed_hyperparameter_is_in_a_tested_family(string model)
    {
        var tested = Families.Where(f => f.Key.Model == model).SelectMany(f => f.Value).Select(change => change[0].Item1).ToHashSet();
        var untested = ModelCatalog.ParamsOf(model).Select(s => s.Name)
            .Where(n => !tested.Contains(n) && !Shared.Contains(n) && !(model == ModelCatalog.GSasRec && SideInformation.Contains(n)));
        Assert.Empty(untested);
    }

    /// <summary>
    /// Each hyperparameter of a family changes the first training step (loss and gradients) of a freshly seeded model on one
    /// fixed batch of the tiny data (dropout on, negatives drawn as the trainer draws them): it reaches the model rather
    /// than being ignored.
    /// </summary>
    [Theory]
    [MemberData(nameof(FamilyCases))]
    public void Every_hyperparameter_of_a_family_changes_the_first_step(string model, string family)
    {
        var quick = Trials.Quick(model, 1);
        foreach (var change in Families[(model, family)])
        {
            var needs = change[1..];
            var baseline = FirstStep(model, Trials.Params(model, [.. quick.Where(q => needs.All(n => n.Item1 != q.Item1)), .. needs]));
            var changed = FirstStep(model, Trials.Params(model, [.. quick.Where(q => change.All(c => c.Item1 != q.Item1)), .. change]));
            Assert.True(baseline != changed, $"{model}: {change[0].Item1} = {change[0].Item2} left the first step at {baseline}");
        }
    }

    private static readonly Lazy<SequenceDataset> TinyData = new(() => new SyntheticGenerator(Trials.Tiny).Dataset);

    private static (float Loss, float SquaredGradient) FirstStep(string model, TrialParameters p)
    {
        var data = TinyData.Value;
        int[] users = [.. Enumerable.Range(0, 32)];
        var counts = data.TrainItemCounts();
        TorchRuntime.Seed(3);
        using var recommender = Build(model, p, data);
        recommender.train();
        using var scope = NewDisposeScope();
        var rows = SequenceBatches.Training(data, users, recommender.MaxSequenceLength, CPU);
        var negatives = recommender.NegativesPerPositive == 0 ? null
            : NegativeSampler.Create(Enum.Parse<SampleStrategy>(p.GetString("sample_strategy"), ignoreCase: true), counts)
                .Sample(data, users, rows, recommender.NegativesPerPositive, new Random(3), CPU);
        var batch = new TrainingBatch(rows.Inputs, rows.Targets, negatives, tensor(users.Select(u => (long)u).ToArray()));
        var loss = recommender.Loss(batch);
        loss.backward();
        // The gradients too: a loss at log(N) from near-zero initial scores can hide a change the gradients show.
        return (loss.item<float>(), recommender.parameters().Where(q => q.grad is not null).Sum(q => q.grad!.square().sum().item<float>()));
    }

    private static SequentialRecommender Build(string model, TrialParameters p, SequenceDataset data) => model switch
    {
        ModelCatalog.GSasRec => GSasRec.Create(data.ItemCount, p, new ItemSideTensors(null, null, 0, null)),
        ModelCatalog.Gru4Rec => new Gru4Rec(data.ItemCount, p),
        ModelCatalog.Caser => new Caser(data.ItemCount, data.UserCount, [.. Enumerable.Range(0, data.UserCount)], p),
        ModelCatalog.Bert4Rec => new Bert4Rec(data.ItemCount, p),
        _ => throw new ArgumentException(model),
    };

    [Theory]
    [InlineData(ModelCatalog.GSasRec)]
    [InlineData(ModelCatalog.Gru4Rec)]
    [InlineData(ModelCatalog.Caser)]
    [InlineData(ModelCatalog.Bert4Rec)]
    public void Same_seed_gives_identical_metrics(string model)
    {
        var a = Trials.Run(Trials.Config(Trials.Params(model, [.. Trials.Quick(model, 1), ("sample_ratio", 0.7)]), model)).Result;
        var b = Trials.Run(Trials.Config(Trials.Params(model, [.. Trials.Quick(model, 1), ("sample_ratio", 0.7)]), model)).Result;
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
        Assert.NotEqual(bce, GSasRec.Loss(hidden, targets, negatives, table, 0.25).item<float>());
    }

    /// <summary>
    /// Sigmoid losses offset scores so that training starts balanced: with every item scored alike at 0 the loss is at
    /// its least over a common shift of all scores (the K negatives' push equals the positive's pull).
    /// </summary>
    [Theory]
    [InlineData(1.0, 1)]
    [InlineData(1.0, 16)]
    [InlineData(0.44, 128)]
    public void Sigmoid_losses_are_least_at_a_common_score_of_zero(double beta, int negatives)
    {
        float At(float score) => SequenceLosses.SigmoidLoss(tensor(Enumerable.Repeat(score, 3).ToArray()),
            tensor(Enumerable.Repeat(score, 3 * negatives).ToArray(), [3, negatives]), beta).item<float>();
        Assert.True(At(0) < At(0.05f) && At(0) < At(-0.05f), $"loss {At(0)} at 0, {At(0.05f)} at 0.05, {At(-0.05f)} at -0.05");
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
