using RecCluster.Core.Config;

namespace RecCluster.Training.Tests;

/// <summary>
/// Guards against TorchSharp scalars freed mid-call: a number converted to a temporary <c>Scalar</c> can be
/// finalized while libtorch still reads it. A thread forcing collections back to back makes that race
/// frequent, so every shipped model must train and evaluate through it with the metrics of a quiet run.
/// </summary>
public class GcStormTests
{
    /// <summary>Collects garbage and runs finalizers in a loop until disposed.</summary>
    private sealed class GcStorm : IDisposable
    {
        private volatile bool _stop;
        private readonly Thread _thread;

        public GcStorm()
        {
            _thread = new Thread(() =>
            {
                while (!_stop) { GC.Collect(); GC.WaitForPendingFinalizers(); }
            }) { IsBackground = true };
            _thread.Start();
        }

        public void Dispose()
        {
            _stop = true;
            Assert.True(_thread.Join(TimeSpan.FromSeconds(30)), "the GC storm thread did not stop");
        }
    }

    public static TheoryData<string, string> Setups => new()
    {
        { "CE", "full" },
        { "BCE", "sampled" },
        { "BPR", "full" },
    };

    [Theory]
    [MemberData(nameof(Setups))]
    public void Sasrec_trains_and_evaluates_under_back_to_back_collections(string loss, string protocol)
    {
        var p = Trials.Params("sasrec", ("hidden_size", 16L), ("inner_size", 32L), ("n_epochs", 30L), ("batch_size", 8L),
            ("max_seq_length", 12L), ("early_stopping_step", 0L), ("loss_type", loss), ("device", "cpu"), ("mask_rate", 0.1));
        var config = Trials.Config(p, protocol: protocol == "full" ? EvalProtocol.Full : EvalProtocol.Sampled);
        var quiet = TrialRunner.Run(config, new TrialOptions(Threads: 1));
        TrialResult stormy;
        using (new GcStorm()) stormy = TrialRunner.Run(config, new TrialOptions(Threads: 1));
        Assert.Equal(quiet.Test, stormy.Test);
        Assert.Equal(quiet.BestEpoch, stormy.BestEpoch);
    }

    [Theory]
    [InlineData(ModelCatalog.GSasRec, "full")]
    [InlineData(ModelCatalog.Gru4Rec, "sampled")]
    [InlineData(ModelCatalog.Caser, "full")]
    [InlineData(ModelCatalog.Bert4Rec, "sampled")]
    public void Every_other_model_trains_and_evaluates_under_back_to_back_collections(string model, string protocol)
    {
        (string, object)[] extra = model switch
        {
            ModelCatalog.Gru4Rec => [("loss_type", "BPR")],
            ModelCatalog.Caser => [("neg_samples", 2L), ("sample_ratio", 0.7)],
            _ => [],
        };
        var p = Trials.Params(model, [.. Trials.Quick(model, 3).Where(q => q.Item1 != "batch_size"), ("batch_size", 8L), .. extra]);
        var config = Trials.Config(p, model, protocol: protocol == "full" ? EvalProtocol.Full : EvalProtocol.Sampled);
        var quiet = TrialRunner.Run(config, new TrialOptions(Threads: 1));
        TrialResult stormy;
        using (new GcStorm()) stormy = TrialRunner.Run(config, new TrialOptions(Threads: 1));
        Assert.Equal(quiet.Test, stormy.Test);
        Assert.Equal(quiet.BestEpoch, stormy.BestEpoch);
    }
}
