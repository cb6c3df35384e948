using System.Runtime.Serialization;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

public sealed class ProtocolSerializerTests() : TestKit(TestSystems.SerializeMessages)
{
    private static readonly Dictionary<string, ParamValue> Params = new()
    {
        ["learning_rate"] = 0.001, ["weight_decay"] = 1.0, ["hidden_size"] = 64L, ["loss_type"] = "CE", ["append_item_features"] = false,
    };
    private static readonly Dictionary<string, double> Metrics = new() { ["ndcg@10"] = 0.123456789012, ["hr@10"] = double.NaN };
    private static readonly AttemptId Attempt = new("t-1a2b3c4d", 3, 2);
    private static readonly Slot Gpu = new("gpu0.1", "0");
    private static readonly TrialFinished Finished = new("early_stopped", "cuda", 7, 12, Metrics, Metrics, 81.5);
    private static readonly StoredTrial Stored = new("t-1a2b3c4d", 3, "sasrec", Params, TrialStatus.Completed, 2, 7, 12, 0.4, 81.5, null);
    private static readonly SweepStatus Status = new(new SweepSummary("t-1a2b3c4d", 9, 6, 2, 1, 0, 120), SweepState.Running);

    /// <summary>One filled-in instance of every protocol message.</summary>
    private IEnumerable<IProtocolMessage> Samples(IActorRef actor) =>
    [
        new RegisterWorker(actor, "gpu-3 (akka.tcp://reccluster@10.0.0.3:4053)", [Gpu, new Slot("cpu0", null)], [new HeldAttempt(Attempt, Gpu, 4)]),
        new RunTrial(Attempt, new TrialSpec(new SweepSource("/sweeps/t.yaml", "name: t\n"), "sasrec", Params, 4,
            [new DataFile("/data/ml.inter", new string('a', 64))]), Gpu, Resume: true),
        new StopTrial(Attempt, Immediately: true),
        new TrialReported(Attempt, new TrialEpoch(5, 0.25, Metrics), 6),
        new TrialExited(Attempt, Gpu, "trial process exited with code 137", 7),
        new ReportsAcked(Attempt, 7),
        new AdoptAttempt(actor, "gpu-3", new HeldAttempt(Attempt, Gpu, 2)),
        new WorkerLost(actor, "gpu-3"),
        new SubmitSweep(new SweepSource("/sweeps/t.yaml", "name: t\n")),
        new SweepAccepted("t-1a2b3c4d"),
        new SweepRejected("t.yaml:1:1: unknown key"),
        new UnknownSweep("t-1a2b3c4d"),
        new ListSweeps(),
        new SweepList([Status]),
        new GetSweepStatus("t-1a2b3c4d"),
        new CancelSweep("t-1a2b3c4d"),
        new WatchSweep("t-1a2b3c4d"),
        Status,
        new SweepFinished(Status.Summary, SweepState.Finished),
        new SlotDemand("t-1a2b3c4d", 3, 5),
        new SlotGranted(actor, Gpu, "gpu-3"),
        new SlotReleased(actor, Gpu),
        new SweepEnded(Status),
        new RegisterSweep("t-1a2b3c4d", "t", new SweepSource("/sweeps/t.yaml", "name: t\n"), new Objective("ndcg@10", true),
            [new DataFile("/data/ml.inter", new string('a', 64))]),
        new SweepRegistered([new DataFile("/data/ml.inter", new string('a', 64))], [Stored],
            new Dictionary<int, IReadOnlyList<EpochRow>> { [3] = [new EpochRow(1, 1, 0.5, Metrics, "gpu-3")] }),
        new QuerySweeps(),
        new SweepRows([new SweepRow("t-1a2b3c4d", "t", "/sweeps/t.yaml", "ndcg@10", true, "2026-01-01T00:00:00Z")]),
        new QueryTrials("t-1a2b3c4d"),
        new StoredTrials([Stored]),
        new RecordTrial("t-1a2b3c4d", 3, "sasrec", Params, TrialStatus.Running, 2, "attempt 1 failed", "gpu-3"),
        new RecordSweepEnded("t-1a2b3c4d", SweepState.Cancelled),
        new QueryUnfinishedSweeps(),
        new UnfinishedSweeps([new UnfinishedSweep("t-1a2b3c4d", new SweepSource("/sweeps/t.yaml", "name: t\n"),
            [new DataFile("/data/ml.inter", new string('a', 64))])]),
        new AfterWrites(actor, new ReportsAcked(Attempt, 3)),
        new RecordEpoch("t-1a2b3c4d", 3, 2, new TrialEpoch(1, 1.5, null)),
        new RecordResult("t-1a2b3c4d", 3, 2, TrialStatus.Completed, Finished, 0.4),
        new SubscribeLeaderboard(actor),
        new TrialUpdated("t-1a2b3c4d", 3, 2, TrialStatus.Running, 4, Metrics, Params),
        new Flush(),
        new Flushed(),
        new QueryTop("t-1a2b3c4d", "test:ndcg@10", true, 5),
        new LeaderboardRows([new LeaderboardRow(Stored, Metrics, Metrics)]),
        new QueryHistory("t-1a2b3c4d", 3),
        new TrialHistory([new EpochRow(1, 1, null, Metrics), new EpochRow(2, 1, 0.5, new Dictionary<string, double>())]),
        new QueryGroups("t-1a2b3c4d", "hidden_size", "ndcg@10"),
        new TrialGroups([new GroupRow("64", 3, 0.3, 0.01)]),
        new GetClusterState(),
        new ClusterState([new WorkerSlots("akka.tcp://reccluster@10.0.0.2:4060", "/user/worker", ["worker"], 4, 1, 3)],
            [new ClusterMember("akka.tcp://reccluster@10.0.0.2:4060", ["worker"], "up")]),
    ];

    public static TheoryData<string> Manifests() => [.. ProtocolSerializer.Messages.Keys.Order()];

    [Fact]
    public void Every_protocol_message_has_a_sample()
    {
        Assert.Equal(ProtocolSerializer.Messages.Keys.Order(), Samples(TestActor).Select(m => m.GetType().Name).Order());
    }

    [Theory]
    [MemberData(nameof(Manifests))]
    public void The_message_round_trips_through_the_protocol_serializer(string manifest)
    {
        var message = Samples(TestActor).Single(m => m.GetType().Name == manifest);
        var serializer = Assert.IsType<ProtocolSerializer>(Sys.Serialization.FindSerializerFor(message));
        var copy = Sys.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, serializer.Manifest(message));
        Assert.IsType(message.GetType(), copy);
        switch ((message, copy))
        {
            case (RegisterWorker sent, RegisterWorker read):
                Assert.Equal(sent.Worker, read.Worker);   // resolved back to the same actor
                Assert.Equal(sent.Slots, read.Slots);
                Assert.Equal((sent.Node, sent.Held.Single()), (read.Node, read.Held.Single()));
                break;
            case (AdoptAttempt or WorkerLost or AfterWrites or SubscribeLeaderboard or SlotGranted or SlotReleased, _):
                Assert.Equal(message, copy);   // records of values and actor refs, each resolved back to the same actor
                break;
            default:
                Assert.Equivalent(message, copy, strict: true);
                break;
        }
    }

    [Fact]
    public void Parameter_values_keep_their_kind_and_metrics_their_precision()
    {
        var sent = new TrialUpdated("s", 0, 1, TrialStatus.Running, 1, Metrics, Params);
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(sent);
        var read = (TrialUpdated)serializer.FromBinary(serializer.ToBinary(sent), serializer.Manifest(sent));
        Assert.Equal(Params, read.Params);   // record equality: 1.0 stays a float, 64 a whole number
        Assert.IsType<ParamValue.Float>(read.Params["weight_decay"]);
        Assert.Equal(0.123456789012, read.Valid!["ndcg@10"]);
        Assert.True(double.IsNaN(read.Valid["hr@10"]));
    }

    [Fact]
    public void An_unknown_manifest_is_a_serialization_error_for_that_message_only()
    {
        var serializer = (ProtocolSerializer)Sys.Serialization.FindSerializerFor(new Flush());
        Assert.Throws<SerializationException>(() => serializer.FromBinary("{}"u8.ToArray(), "System.Diagnostics.Process"));
    }
}
