using Akka.Actor;
using Akka.TestKit.Xunit2;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

public sealed class LeaderboardTests() : TestKit(TestSystems.SerializeMessages), IDisposable
{
    private readonly SweepFiles _files = new();
    void IDisposable.Dispose() { _files.Dispose(); Shutdown(); }

    private static readonly Dictionary<string, ParamValue> Params = new() { ["learning_rate"] = 0.01, ["sample_seed"] = 1L };

    [Fact]
    public void A_redelivered_report_is_stored_once_and_subscribers_hear_each_change()
    {
        var leaderboard = Sys.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(_files.State)));
        var subscriber = CreateTestProbe();
        leaderboard.Tell(new SubscribeLeaderboard(subscriber.Ref));
        var epoch = new RecordEpoch("s", 0, 1, new TrialEpoch(1, 0.5, new Dictionary<string, double> { ["ndcg@10"] = 0.3 }));
        leaderboard.Tell(new RecordTrial("s", 0, "sasrec", Params, TrialStatus.Running, 1));
        leaderboard.Tell(epoch);
        leaderboard.Tell(epoch);   // re-delivered
        leaderboard.Tell(new Flush());
        ExpectMsg<Flushed>();
        leaderboard.Tell(new QueryHistory("s", 0));
        var stored = Assert.Single(ExpectMsg<TrialHistory>().Epochs);   // once
        Assert.Equal((0.5, 0.3), (stored.Loss, stored.Valid["ndcg@10"]));
        Assert.Equal(TrialStatus.Running, subscriber.ExpectMsg<TrialUpdated>().Status);
        Assert.Equal(1, subscriber.ExpectMsg<TrialUpdated>().Epoch);
        subscriber.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public void Queries_rank_group_and_show_history()
    {
        using var store = new LeaderboardStore(_files.State);
        store.EnsureSweep("s", "t", new SweepSource("t.yaml", ""), new Objective("ndcg@10", true), []);
        double[] valid = [0.30, 0.50, 0.40, 0.20];
        for (int i = 0; i < 4; i++)
        {
            var values = new Dictionary<string, ParamValue> { ["sample_seed"] = (long)(i % 2), ["learning_rate"] = 0.01 * (i + 1) };
            store.RecordTrial("s", i, "sasrec", values, TrialStatus.Running, 1, null);
            store.RecordEpoch("s", i, 1, new TrialEpoch(1, 1.0, new Dictionary<string, double> { ["ndcg@10"] = valid[i] }));
            var metrics = new Dictionary<string, double> { ["ndcg@10"] = valid[i] };
            store.RecordResult("s", i, 1, TrialStatus.Completed, new TrialFinished("completed", "cpu", 1, 1, metrics,
                new Dictionary<string, double> { ["ndcg@10"] = valid[i] - 0.05 }, 1), valid[i]);
        }
        Assert.Equal([1, 2, 0], store.Top("s", "ndcg@10", true, 3).Select(r => r.Trial.Index));
        var leaderboard = Sys.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(_files.State, ReadOnly: true)));
        leaderboard.Tell(new QuerySweeps());
        Assert.Equal("s", Assert.Single(ExpectMsg<SweepRows>().Sweeps).Id);
        leaderboard.Tell(new QueryTrials("s"));
        Assert.Equal([0, 1, 2, 3], ExpectMsg<StoredTrials>().Trials.Select(t => t.Index));
        leaderboard.Tell(new QueryTop("s", "ndcg@10", true, 2));
        Assert.Equal([1, 2], ExpectMsg<LeaderboardRows>().Rows.Select(r => r.Trial.Index));
        leaderboard.Tell(new QueryGroups("s", "sample_seed", "ndcg@10"));
        Assert.Equal(2, ExpectMsg<TrialGroups>().Groups.Count);
        leaderboard.Tell(new QueryHistory("s", 3));
        Assert.Equal(0.2, Assert.Single(ExpectMsg<TrialHistory>().Epochs).Valid["ndcg@10"]);
        Assert.Equal([3, 0], store.Top("s", "test:ndcg@10", false, 2).Select(r => r.Trial.Index));
        var groups = store.GroupBy("s", "sample_seed", "ndcg@10");
        Assert.Equal(["0", "1"], groups.Select(g => g.Value));
        Assert.Equal(0.35, groups[0].Mean, 9);                                  // trials 0 and 2
        Assert.Equal(Math.Sqrt(2 * 0.05 * 0.05), groups[0].Std, 9);           // sample std of 0.30, 0.40
        Assert.Equal(0.5, Assert.Single(store.History("s", 1)).Valid["ndcg@10"]);
        Assert.Equal(4, store.TotalEpochs("s"));
    }
}
