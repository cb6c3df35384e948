using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;

namespace RecCluster.Cluster.Tests;

/// <summary>The event feed against a scripted answerer: which epoch rows it sends when the store's rows arrive out of order.</summary>
public sealed class DashboardEventFeedTests() : TestKit(TestSystems.SerializeMessages)
{
    private const string Sweep = "s-1";

    /// <summary>Answers as a manager with one running sweep of one running trial whose epoch rows are <see cref="Rows"/>.</summary>
    private sealed class Scripted : ReceiveActor
    {
        public static volatile IReadOnlyList<EpochRow> Rows = [];

        public Scripted()
        {
            Receive<ListSweeps>(_ => Sender.Tell(new SweepList([new SweepStatus(new SweepSummary(Sweep, 1, 0, 0, 0, 0, Rows.Count),
                SweepState.Running)])));
            Receive<QueryTrials>(_ => Sender.Tell(new StoredTrials([new StoredTrial(Sweep, 0, "sasrec", new Dictionary<string, ParamValue>(),
                TrialStatus.Running, 2, null, Rows.Count, null, null, null)])));
            Receive<QueryHistory>(_ => Sender.Tell(new TrialHistory(Rows)));
            Receive<QuerySweeps>(_ => Sender.Tell(new SweepRows([])));
        }
    }

    private static EpochRow Row(int attempt, int epoch) => new(attempt, epoch, 0.5, new Dictionary<string, double> { ["ndcg@10"] = 0.1 });

    [Fact]
    public async Task A_late_row_of_an_earlier_attempt_is_sent_and_no_row_is_sent_twice()
    {
        Scripted.Rows = [Row(2, 1), Row(2, 2)];
        var answerer = Sys.ActorOf(Props.Create(() => new Scripted()));
        await using var feed = new EventFeed(() => answerer, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(10), null);
        var events = feed.Subscribe(out var unsubscribe);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.StartsWith("event: hello", await events.ReadAsync(timeout.Token));   // the baseline holds (2,1) and (2,2)

        // A late report of attempt 1 sorts first (History orders by attempt, epoch); attempt 2 goes on to epoch 3.
        Scripted.Rows = [Row(1, 1), Row(2, 1), Row(2, 2), Row(2, 3)];
        var sent = new List<(int, int)>();
        while (sent.Count < 2)
        {
            var text = await events.ReadAsync(timeout.Token);
            if (!text.StartsWith("event: epoch")) continue;
            var data = JsonNode.Parse(text.Split("data: ")[1])!;
            sent.Add(((int)data["attempt"]!, (int)data["epoch"]!));
        }
        Assert.Equal([(1, 1), (2, 3)], sent);
        unsubscribe();
    }
}
