using System.Data.Common;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Microsoft.Data.Sqlite;
using Npgsql;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

/// <summary>The store and its actor, run against each back end by the classes below.</summary>
public abstract class LeaderboardTests() : TestKit(TestSystems.SerializeMessages)
{
    protected static readonly Dictionary<string, ParamValue> Params = new() { ["learning_rate"] = 0.01, ["sample_seed"] = 1L };

    protected abstract StoreLocation Location { get; }

    /// <summary>A connection of the test's own to the store's database, to lay out what older versions wrote.</summary>
    protected abstract DbConnection Connect();

    [StoreFact]
    public void A_redelivered_report_is_stored_once_and_subscribers_hear_each_change()
    {
        var leaderboard = Sys.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(Location)));
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

    [StoreFact]
    public void Queries_rank_group_and_show_history()
    {
        using var store = new LeaderboardStore(Location);
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
        var leaderboard = Sys.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(Location, ReadOnly: true)));
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

    [StoreFact]
    public void A_store_made_before_sweeps_kept_their_text_and_data_gains_the_columns()
    {
        using (var connection = Connect())
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE sweeps (id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, objective TEXT NOT NULL,
                  maximize INTEGER NOT NULL, created TEXT NOT NULL);
                INSERT INTO sweeps VALUES ('old', 't', 't.yaml', 'ndcg@10', 1, '2026-01-01T00:00:00Z');
                """;
            command.ExecuteNonQuery();
        }
        using var store = new LeaderboardStore(Location);
        DataFile[] data = [new("a.inter", "00")];
        Assert.Equal(data, store.EnsureSweep("old", "t", new SweepSource("t.yaml", "text"), new Objective("ndcg@10", true), data));
        Assert.Equal("old", Assert.Single(store.Sweeps()).Id);
    }

    [StoreFact]
    public void A_read_only_store_where_nothing_was_written_says_there_is_no_leaderboard()
    {
        var e = Assert.ThrowsAny<Exception>(() => new LeaderboardStore(Location, readOnly: true));
        Assert.StartsWith($"no leaderboard in {Location}", e.Message);
    }
}

public sealed class SqliteLeaderboardTests : LeaderboardTests
{
    private readonly SweepFiles _files = new();

    protected override StoreLocation Location => new StoreLocation.StateDirectory(_files.State);

    protected override DbConnection Connect() =>
        new SqliteConnection($"Data Source={Path.Combine(Directory.CreateDirectory(_files.State).FullName, LeaderboardStore.FileName)}");

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _files.Dispose();
    }
}

public sealed class PostgresLeaderboardTests : LeaderboardTests, INeedPostgres
{
    private readonly PostgresServer.Schema _schema = new();

    protected override StoreLocation Location => _schema.Location;

    protected override DbConnection Connect() => new NpgsqlConnection(_schema.Location.ConnectionString);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _schema.Dispose();
    }

    [StoreFact]
    public void Two_stores_on_one_database_see_each_others_writes_and_store_each_epoch_once()
    {
        using var first = new LeaderboardStore(Location);
        using var second = new LeaderboardStore(Location);   // the coordinator, failed over to another machine
        var objective = new Objective("ndcg@10", true);
        DataFile[] data = [new("a.inter", "00")];
        Assert.Equal(data, first.EnsureSweep("s", "t", new SweepSource("t.yaml", "text"), objective, data));
        Assert.Equal(data, second.EnsureSweep("s", "t", new SweepSource("t.yaml", "text"), objective, [new("a.inter", "11")]));
        var epoch = new TrialEpoch(1, 0.5, new Dictionary<string, double> { ["ndcg@10"] = 0.3 });
        first.RecordTrial("s", 0, "sasrec", Params, TrialStatus.Running, 1, null);
        Assert.True(first.RecordEpoch("s", 0, 1, epoch));
        Assert.False(second.RecordEpoch("s", 0, 1, epoch));   // re-delivered to the new coordinator
        second.RecordTrial("s", 0, "sasrec", Params, TrialStatus.Running, 2, "retried");
        Assert.True(second.RecordEpoch("s", 0, 2, epoch));
        first.RecordTrial("s", 0, "sasrec", Params, TrialStatus.Running, 1, null);   // a late report of the first attempt
        var trial = Assert.Single(first.Trials("s"));
        Assert.Equal((2, "retried"), (trial.Attempts, trial.Note));
        Assert.Equal([1, 2], second.History("s", 0).Select(h => h.Attempt));
        Assert.Equal(4, first.MetricRows("s"));
        using var reader = new LeaderboardStore(Location, readOnly: true);
        Assert.Equal("s", Assert.Single(reader.Sweeps()).Id);
    }
}

public sealed class StoreLocationTests
{
    [Fact]
    public void A_postgres_location_reads_a_uri_or_keywords_and_keeps_the_password_out_of_messages()
    {
        var uri = new StoreLocation.Postgres("postgres://rc%40team:s%3Bcret@db.example:6543/leader%20board?Timeout=7");
        var keywords = new StoreLocation.Postgres(
            "Host=db.example;Port=6543;Database=leader board;Username=rc@team;Password=\"s;cret\";Timeout=7");
        var (fromUri, fromKeywords) = (new NpgsqlConnectionStringBuilder(uri.ConnectionString),
            new NpgsqlConnectionStringBuilder(keywords.ConnectionString));
        Assert.True(fromKeywords.EquivalentTo(fromUri), $"{keywords.ConnectionString} differs from {uri.ConnectionString}");
        Assert.Equal("PostgreSQL database leader board on db.example:6543", uri.ToString());
        Assert.Equal(5432, new NpgsqlConnectionStringBuilder(new StoreLocation.Postgres("postgresql://h/d").ConnectionString).Port);
    }

    [Theory]
    [InlineData("runs/state")]
    [InlineData("Host=h")]
    [InlineData("postgres://h")]
    public void A_value_without_a_host_and_database_is_no_postgres_location(string value) =>
        Assert.Throws<ArgumentException>(() => new StoreLocation.Postgres(value));
}
