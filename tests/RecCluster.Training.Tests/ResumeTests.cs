using RecCluster.Core.Config;

namespace RecCluster.Training.Tests;

public sealed class ResumeTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("reccluster-resume-").FullName;
    public void Dispose() => Directory.Delete(_root, true);

    /// <summary>Records the epochs it is told of, and cancels the trial once it has seen <c>cancelAfter</c>.</summary>
    private sealed class Recorder(int cancelAfter = 0) : ITrialObserver
    {
        public CancellationTokenSource Cancel { get; } = new();
        public List<EpochReport> Epochs { get; } = [];

        public void EpochCompleted(EpochReport report)
        {
            Epochs.Add(report);
            if (report.Epoch == cancelAfter) Cancel.Cancel();
        }
    }

    private (TrialResult Result, List<EpochReport> Epochs) Run(ExperimentConfig config, string folder, bool resume)
    {
        var log = new Recorder();
        var options = new TrialOptions(Threads: 2, StateDirectory: Path.Combine(_root, folder), Resume: resume);
        var result = TrialRunner.Run(config, options, log);
        return (result, log.Epochs);
    }

    /// <summary>A trial that overfits quickly, so it stops early and its early-stopping state carries across epochs.</summary>
    private static ExperimentConfig Overfitting(string loss, EvalProtocol protocol, long evalStep) => Trials.Config(Trials.Params("sasrec",
        [.. Trials.Quick(16).Where(p => p.Item1 != "early_stopping_step"), ("early_stopping_step", 2L), ("eval_step", evalStep),
            ("learning_rate", 0.05), ("loss_type", loss), ("mask_rate", 0.1), ("hidden_dropout_prob", 0.3)]), protocol: protocol);

    [Theory]
    [InlineData("CE", EvalProtocol.Full, 1L)]
    [InlineData("BCE", EvalProtocol.Sampled, 2L)]
    public void A_trial_interrupted_after_an_epoch_and_resumed_ends_as_an_uninterrupted_one(string loss, EvalProtocol protocol, long step)
    {
        var config = Overfitting(loss, protocol, step);
        var whole = Run(config, "whole", resume: false);
        Assert.Equal("early_stopped", whole.Result.Status);
        Assert.Null(whole.Result.ResumedFromEpoch);
        // Interrupted one epoch before it stops: the resumed run must remember the stale count to stop on time and the best
        // value not to call the next validation an improvement.
        int k = whole.Result.EpochsRun - 1;
        Assert.True(k > whole.Result.BestEpoch, $"best epoch {whole.Result.BestEpoch}, interrupted after {k}");

        var killer = new Recorder(cancelAfter: k);
        var interrupted = new TrialOptions(Threads: 2, StateDirectory: Path.Combine(_root, "parts"));
        Assert.Throws<OperationCanceledException>(() => TrialRunner.Run(config, interrupted, killer, killer.Cancel.Token));
        var resumed = Run(config, "parts", resume: true);

        Assert.Equal(k, resumed.Result.ResumedFromEpoch);
        Assert.Equal(Enumerable.Range(k + 1, whole.Result.EpochsRun - k), resumed.Epochs.Select(e => e.Epoch));
        Assert.Equal(whole.Epochs.Select(Describe), killer.Epochs.Concat(resumed.Epochs).Select(Describe));
        Assert.Equal(whole.Result.Status, resumed.Result.Status);
        Assert.Equal(whole.Result.BestEpoch, resumed.Result.BestEpoch);
        Assert.Equal(whole.Result.EpochsRun, resumed.Result.EpochsRun);
        Assert.Equal(whole.Result.Valid, resumed.Result.Valid);
        Assert.Equal(whole.Result.Test, resumed.Result.Test);
    }

    /// <summary>
    /// Every model resumes on the shared trainer: interrupted after epoch 3 of a 4-epoch run with sampled users, validation
    /// every 2 epochs and early stopping, it ends with the uninterrupted run's epochs, metrics and status.
    /// </summary>
    [Theory]
    [InlineData(ModelCatalog.GSasRec)]
    [InlineData(ModelCatalog.Gru4Rec)]
    [InlineData(ModelCatalog.Caser)]
    [InlineData(ModelCatalog.Bert4Rec)]
    public void Every_model_resumes_as_an_uninterrupted_run(string model)
    {
        var config = Trials.Config(Trials.Params(model, [.. Trials.Quick(model, 4).Where(p => p.Item1 != "early_stopping_step"),
            ("early_stopping_step", 2L), ("eval_step", 2L), ("sample_ratio", 0.8), ("sample_seed", 5L), ("learning_rate", 0.01)]), model);
        var whole = Run(config, model + "-whole", resume: false);
        var killer = new Recorder(cancelAfter: 3);
        var interrupted = new TrialOptions(Threads: 2, StateDirectory: Path.Combine(_root, model + "-parts"));
        Assert.Throws<OperationCanceledException>(() => TrialRunner.Run(config, interrupted, killer, killer.Cancel.Token));
        var resumed = Run(config, model + "-parts", resume: true);
        Assert.Equal(3, resumed.Result.ResumedFromEpoch);
        Assert.Equal(whole.Epochs.Select(Describe), killer.Epochs.Concat(resumed.Epochs).Select(Describe));
        Assert.Equal(whole.Result.Status, resumed.Result.Status);
        Assert.Equal(whole.Result.BestEpoch, resumed.Result.BestEpoch);
        Assert.Equal(whole.Result.Test, resumed.Result.Test);
    }

    /// <summary>An epoch's loss and validation metrics to the last bit.</summary>
    private static string Describe(EpochReport e) =>
        $"{e.Epoch} {e.Loss:R} {e.Improved} " + string.Join(",", e.Valid?.Select(kv => $"{kv.Key}={kv.Value:R}") ?? []);

    [Fact]
    public void Resuming_a_finished_trial_trains_no_further_and_reports_the_same_result()
    {
        var config = Trials.Config(Trials.Params("sasrec", Trials.Quick(2)));
        var first = Run(config, "done", resume: false);
        var again = Run(config, "done", resume: true);
        Assert.Equal(2, again.Result.ResumedFromEpoch);
        Assert.Empty(again.Epochs);
        Assert.Equal(first.Result.Test, again.Result.Test);
    }

    [Fact]
    public void A_checkpoint_of_another_config_is_refused_naming_its_file()
    {
        Run(Trials.Config(Trials.Params("sasrec", Trials.Quick(1))), "other", resume: false);
        var changed = Trials.Config(Trials.Params("sasrec", [.. Trials.Quick(1), ("learning_rate", 0.01)]));
        var error = Assert.Throws<InvalidOperationException>(() => Run(changed, "other", resume: true));
        Assert.Contains(Path.Combine(_root, "other", TrialCheckpoint.ResumeFile), error.Message);
        Assert.Contains("another trial", error.Message);
        // A best value measured under another evaluation protocol is no yardstick either.
        var sampled = Trials.Config(Trials.Params("sasrec", Trials.Quick(1)), protocol: EvalProtocol.Sampled);
        Assert.Contains("another trial", Assert.Throws<InvalidOperationException>(() => Run(sampled, "other", resume: true)).Message);
    }

    [Fact]
    public void Resume_without_a_checkpoint_starts_afresh()
    {
        var config = Trials.Config(Trials.Params("sasrec", Trials.Quick(1)));
        var fresh = Run(config, "empty", resume: true);
        Assert.Null(fresh.Result.ResumedFromEpoch);
        Assert.Equal([1], fresh.Epochs.Select(e => e.Epoch));
        Assert.True(TrialCheckpoint.ExistsIn(Path.Combine(_root, "empty")));
    }
}
