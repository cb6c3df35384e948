using System.Diagnostics;
using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Training.Models;
using RecCluster.Training.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace RecCluster.Training;

public sealed record DataSummary(string Source, string Format, int Users, int Items, long Interactions, int SkippedUsers, int TrainingUsers);

public sealed record EpochReport(int Epoch, int Epochs, double Loss, IReadOnlyDictionary<string, double>? Valid, bool Improved, double Seconds, long RssBytes);

public sealed record TrialResult(
    string Status,
    string Device,
    int BestEpoch,
    int EpochsRun,
    IReadOnlyDictionary<string, double> Valid,
    IReadOnlyDictionary<string, double> Test,
    IReadOnlyDictionary<string, double>? Oracle,
    double Seconds,
    DataSummary Data,
    int? ResumedFromEpoch = null);

/// <summary>Progress callbacks; the CLI renders them, tests record them.</summary>
public interface ITrialObserver
{
    void DataLoaded(DataSummary summary) { }
    /// <summary>The trial continues from its checkpoint after <paramref name="epoch"/>; earlier epochs are not reported again.</summary>
    void Resumed(int epoch) { }
    void BatchCompleted(int epoch, int batch, int batches) { }
    void EpochCompleted(EpochReport report) { }
}

/// <param name="CheckpointPath">Where the best weights go without a <paramref name="StateDirectory"/> (default: a temporary file).</param>
/// <param name="StopRequested">Polled after each epoch: when true the trial ends early ("stopped"),
/// reporting test metrics at its best validation epoch so far.</param>
/// <param name="StateDirectory">Holds the trial's <see cref="TrialCheckpoint"/> files: the best weights and, after every
/// epoch, a checkpoint to resume from (it may be shared by the nodes that can run the trial).</param>
/// <param name="Resume">Continue from the state directory's checkpoint when there is one; otherwise start afresh.</param>
public sealed record TrialOptions(string? CheckpointPath = null, int Threads = 0, Func<bool>? StopRequested = null,
    string? StateDirectory = null, bool Resume = false);

/// <summary>
/// Runs one trial: loads data, builds the model, trains with periodic validation, early stopping and a
/// best checkpoint, then reports validation and test metrics at the best validation epoch.
/// </summary>
public static class TrialRunner
{
    public static TrialResult Run(ExperimentConfig config, TrialOptions options, ITrialObserver? observer = null, CancellationToken cancel = default)
    {
        if (options.StateDirectory is not null && options.CheckpointPath is not null)
            throw new ArgumentException("a trial keeps its best weights in its state directory: set CheckpointPath or it, not both");
        if (options.Resume && options.StateDirectory is null) throw new ArgumentException("resuming needs a state directory");
        observer ??= new NullObserver();
        var clock = Stopwatch.StartNew();
        var model = config.Models.Single();
        var p = model.Parameters;
        TorchRuntime.SetThreads(options.Threads);
        TorchRuntime.KeepFreedMemory();
        int seed = (int)p.GetInt("sample_seed");
        TorchRuntime.Seed(seed);
        var device = TorchRuntime.ResolveDevice(p.GetString("device"));

        var (data, generator, trainingUsers, summary) = PrepareData(config.Data, p);
        observer.DataLoaded(summary);
        var trainCounts = data.TrainItemCounts(trainingUsers);

        using var recommender = CreateModel(model, data, config.Data, trainCounts, trainingUsers, device);
        int maxLength = recommender.MaxSequenceLength;
        var evaluator = new Evaluator(data, config.Evaluation, maxLength, (int)p.GetInt("eval_batch_size"), device, seed);

        var checkpoint = TrialCheckpoint.For(options, TrialCheckpoint.Fingerprint(model, summary, data.Split, config.Evaluation, config.Objective));
        int bestEpoch = 0, epochsRun = 0;
        int? resumedFrom = null;
        string status = "completed";
        if (recommender.IsTrainable)
        {
            (bestEpoch, epochsRun, status, resumedFrom) = Train(recommender, data, trainingUsers, trainCounts, p, config.Objective,
                evaluator, maxLength, device, seed, checkpoint, options.Resume, observer, options.StopRequested, cancel);
            recommender.load(checkpoint.BestPath);
            if (options is { CheckpointPath: null, StateDirectory: null }) File.Delete(checkpoint.BestPath);
        }

        var valid = evaluator.Evaluate(recommender, Split.Valid);
        var test = evaluator.Evaluate(recommender, Split.Test);
        // The oracle ranks one next item: it applies to full-ranking leave-one-out only.
        var oracle = generator is not null && config.Evaluation.Protocol == EvalProtocol.Full && data.Split.IsLeaveOneOut
            ? generator.OracleMetrics(Split.Test, config.Evaluation.Metrics, config.Evaluation.Cutoffs)
            : null;
        return new TrialResult(status, device.type.ToString().ToLowerInvariant(), bestEpoch, epochsRun, valid, test, oracle,
            clock.Elapsed.TotalSeconds, summary, resumedFrom);
    }

    private static (int BestEpoch, int EpochsRun, string Status, int? ResumedFrom) Train(
        SequentialRecommender model, SequenceDataset data, int[] trainingUsers, long[] trainCounts, TrialParameters p,
        Objective objective, Evaluator evaluator, int maxLength, Device device, int seed, TrialCheckpoint checkpoint, bool resume,
        ITrialObserver observer, Func<bool>? stopRequested, CancellationToken cancel)
    {
        // Users whose training history holds at least one transition.
        var users = trainingUsers.Where(u => data.TrainItems(u).Length >= 2).ToArray();
        if (users.Length == 0) throw new InvalidOperationException("no training user has two or more training items");
        int epochs = (int)p.GetInt("n_epochs"), batchSize = (int)p.GetInt("batch_size"), window = (int)p.GetInt("length_bucket_window");
        int evalStep = (int)p.GetInt("eval_step"), patience = (int)p.GetInt("early_stopping_step"), passSize = (int)p.GetInt("micro_batch_size");
        var sampler = model.NegativesPerPositive > 0
            ? NegativeSampler.Create(Enum.Parse<SampleStrategy>(p.GetString("sample_strategy"), ignoreCase: true), trainCounts)
            : null;
        using var optimizer = new AdamOptimizer(model.parameters(), p.GetDouble("learning_rate"), p.GetDouble("adam_beta1"),
            p.GetDouble("adam_beta2"), weightDecay: p.GetDouble("weight_decay"), decoupledWeightDecay: p.GetString("optimizer") == "adamw");
        long epochPositions = users.Sum(u => (long)SequenceBatches.TrainingPositions(data, u, maxLength));

        var progress = new TrainingProgress(0, objective.Maximize ? double.NegativeInfinity : double.PositiveInfinity, 0, 0);
        int? resumedFrom = null;
        if (resume && checkpoint.ResumePath is { } resumePath && File.Exists(resumePath))
        {
            progress = checkpoint.LoadProgress(model, optimizer);
            resumedFrom = progress.Epoch;
            observer.Resumed(progress.Epoch);
        }
        // A checkpoint of a trial that had already stopped early continues no further.
        if (patience > 0 && progress.Stale >= patience) return (progress.BestEpoch, progress.Epoch, "early_stopped", resumedFrom);
        // Each epoch reshuffles the previous epoch's order; a resumed trial replays the shuffles of the epochs it skips, so its
        // order, and so its batches, are those of an uninterrupted run.
        for (int epoch = 1; epoch <= progress.Epoch; epoch++) new Random(EpochSeed(seed, epoch)).Shuffle(users);
        for (int epoch = progress.Epoch + 1; epoch <= epochs; epoch++)
        {
            cancel.ThrowIfCancellationRequested();
            var started = Stopwatch.StartNew();
            // The rest of each epoch's randomness (batches, negatives, dropout) derives from the seed and the epoch alone.
            var random = new Random(EpochSeed(seed, epoch));
            TorchRuntime.Seed(EpochSeed(seed, -epoch));
            random.Shuffle(users);
            var epochBatches = SequenceBatches.Batches(data, users, batchSize, window, random);
            int batches = epochBatches.Count;
            // Every target position weighs the same whatever its batch: a pass's mean loss is scaled by its share of
            // the epoch's positions (relative to an average batch); a batch's passes add their gradients before its step.
            double positionsPerBatch = (double)epochPositions / batches;
            model.train();
            double lossSum = 0;
            for (int b = 0; b < batches; b++)
            {
                optimizer.ZeroGrad();
                foreach (var pass in SequenceBatches.Passes(data, epochBatches[b], passSize))
                {
                    using var scope = NewDisposeScope();
                    var rows = SequenceBatches.Training(data, pass, maxLength, device);
                    var negatives = sampler?.Sample(data, pass, rows, model.NegativesPerPositive, random, device);
                    var loss = model.Loss(new TrainingBatch(rows.Inputs, rows.Targets, negatives, tensor(pass.Select(u => (long)u).ToArray()).to(device)));
                    using var weight = (rows.Positions / positionsPerBatch).ToScalar();
                    loss.mul(weight).backward();
                    lossSum += loss.item<float>() * rows.Positions;
                }
                optimizer.Step();
                observer.BatchCompleted(epoch, b + 1, batches);
            }

            IReadOnlyDictionary<string, double>? valid = null;
            bool improved = false;
            bool stop = stopRequested?.Invoke() == true;
            bool scheduled = epoch % evalStep == 0 || epoch == epochs;
            // A trial stopped before its first scheduled validation validates now so that it has a best epoch; that extra
            // validation stays out of the resumable state, which must match an uninterrupted run's.
            if (scheduled || (stop && progress.BestEpoch == 0))
            {
                valid = evaluator.Evaluate(model, Split.Valid);
                double value = valid[objective.Metric];
                improved = objective.IsBetter(value, progress.Best) || progress.BestEpoch == 0;
                if (improved) checkpoint.SaveBest(model);
                if (scheduled)
                    progress = improved
                        ? progress with { Best = value, BestEpoch = epoch, Stale = 0 }
                        : progress with { Stale = progress.Stale + 1 };
            }
            progress = progress with { Epoch = epoch };
            observer.EpochCompleted(new EpochReport(epoch, epochs, lossSum / epochPositions, valid, improved, started.Elapsed.TotalSeconds, Environment.WorkingSet));
            // Saved after the report: a process killed in between repeats this epoch when resumed rather than losing its report.
            checkpoint.SaveProgress(progress, model, optimizer);
            if (stop) return (improved ? epoch : progress.BestEpoch, epoch, "stopped", resumedFrom);
            if (patience > 0 && progress.Stale >= patience) return (progress.BestEpoch, epoch, "early_stopped", resumedFrom);
        }
        return (progress.BestEpoch, epochs, "completed", resumedFrom);
    }

    /// <summary>A seed for one epoch's random streams, stable across processes (unlike HashCode.Combine).</summary>
    private static int EpochSeed(int seed, int epoch) => unchecked(seed * 1_000_003 + epoch * 7919);

    /// <summary>The trial's data, its seeded sample of training users (sample_ratio) and the summary a run reports.</summary>
    internal static (SequenceDataset Data, SyntheticGenerator? Generator, int[] TrainingUsers, DataSummary Summary) PrepareData(
        DataConfig config, TrialParameters p)
    {
        var (data, format, generator) = LoadData(config);
        var trainingUsers = data.SampleTrainingUsers(p.GetDouble("sample_ratio"), (int)p.GetInt("sample_seed"));
        var summary = new DataSummary(config.Path ?? "synthetic", format, data.UserCount, data.ItemCount, data.InteractionCount,
            data.SkippedUsers, trainingUsers.Length);
        return (data, generator, trainingUsers, summary);
    }

    public static (SequenceDataset Data, string Format, SyntheticGenerator? Generator) LoadData(DataConfig config)
    {
        if (config.Synthetic is { } synthetic)
        {
            var generator = new SyntheticGenerator(synthetic);
            return (generator.Dataset.WithSplit(config.Split), "synthetic", generator);
        }
        var (rows, format) = InteractionReader.Read(config.Path!, config.Format);
        var data = SequenceDataset.FromInteractions(config.Path!, rows, config.MinUserInteractions, config.MinItemInteractions, config.Split);
        return (data, format.ToString().ToLowerInvariant(), null);
    }

    internal static SequentialRecommender CreateModel(ModelConfig model, SequenceDataset data, DataConfig dataConfig, long[] trainCounts,
        int[] trainingUsers, Device device)
    {
        if (model.Name == ModelCatalog.Popularity) return new Popularity(trainCounts, device);
        var p = model.Parameters;
        SequentialRecommender built = model.Name switch
        {
            ModelCatalog.GSasRec => GSasRec.Create(data.ItemCount, p, SideTensors(p, data, dataConfig, device)),
            ModelCatalog.Gru4Rec => new Gru4Rec(data.ItemCount, p),
            // Caser's user embeddings: the users the trainer learns from (sampled, with a training transition).
            ModelCatalog.Caser => new Caser(data.ItemCount, data.UserCount, [.. trainingUsers.Where(u => data.TrainItems(u).Length >= 2)], p),
            ModelCatalog.Bert4Rec => new Bert4Rec(data.ItemCount, p),
            ModelCatalog.SasRec => new SasRec(data.ItemCount, p, SideTensors(p, data, dataConfig, device)),
            _ => throw new ArgumentException($"unknown model '{model.Name}'"),
        };
        built.to(device);
        return built;
    }

    /// <summary>The item side information SASRec-family models add to their item embeddings, when asked to.</summary>
    private static ItemSideTensors SideTensors(TrialParameters p, SequenceDataset data, DataConfig dataConfig, Device device)
    {
        Tensor? featureIds = null, featureCounts = null, pretrained = null;
        long featureCount = 0;
        if (p.GetBool("append_item_features"))
        {
            var features = ItemSideInformation.ReadFeatures(dataConfig.ItemFeaturesPath!, dataConfig.ItemFeatureField, data);
            int width = Math.Max(1, features.PerItem.Max(f => f.Length));
            var ids = new long[features.PerItem.Count * width];
            var counts = new float[features.PerItem.Count];
            for (int i = 0; i < features.PerItem.Count; i++)
            {
                for (int k = 0; k < features.PerItem[i].Length; k++) ids[i * width + k] = features.PerItem[i][k];
                counts[i] = Math.Max(1, features.PerItem[i].Length);
            }
            featureIds = tensor(ids, [features.PerItem.Count, width]).to(device);
            featureCounts = tensor(counts).to(device);
            featureCount = features.FeatureCount;
        }
        if (p.GetBool("append_item_embeddings"))
        {
            var (vectors, dim, _) = ItemSideInformation.ReadEmbeddings(dataConfig.ItemEmbeddingsPath!, data);
            pretrained = tensor(vectors, [data.ItemCount + 1, dim]).to(device);
        }
        return new ItemSideTensors(featureIds, featureCounts, featureCount, pretrained);
    }

    private sealed class NullObserver : ITrialObserver;
}
