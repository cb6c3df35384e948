using System.Text.Json.Nodes;
using Akka.TestKit.Xunit2;
using RecCluster.Cli;

namespace RecCluster.Cluster.Tests;

/// <summary>The CLI's coordinator clients, run in this process against the API over a real manager with simulated trials.</summary>
public sealed class CliClientTests() : TestKit(TestSystems.SerializeMessages), IAsyncLifetime
{
    private readonly SweepFiles _files = new();
    private ApiServer _server = null!;

    public async Task InitializeAsync()
    {
        RemoteCommands.FollowInterval = TimeSpan.FromMilliseconds(50);
        _server = await ApiServer.StartAsync(Sys, _files.State, hang: id => id.SweepId.StartsWith("hang-"));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Shutdown();   // the actors (the leaderboard holds its store open) stop before their folder goes
        _files.Dispose();
    }

    /// <summary>Runs the CLI; a client of the test server sends its token, as a user would.</summary>
    private static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        if (args.Contains("--coordinator") && !args.Contains("--state")) args = [.. args, "--token", ApiServer.Token];
        int exit = CliApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private string Write(string yaml, string name = "sweep.yaml")
    {
        var path = Path.Combine(_files.Folder, name);
        File.WriteAllText(path, yaml);
        return path;
    }

    private string SubmitAndFollow(string name)
    {
        var (exit, stdout, stderr) = Cli("submit", Write(SweepFiles.Grid(3).Replace("name: t", $"name: {name}")), "--coordinator", _server.Url, "--json");
        Assert.True(exit == 0, stderr);
        var id = (string)JsonNode.Parse(stdout)!["sweep_id"]!;
        (exit, stdout, stderr) = Cli("status", "--coordinator", _server.Url, "--sweep", id, "--follow", "--json");
        Assert.True(exit == 0, stderr);
        var status = JsonNode.Parse(stdout)!;
        Assert.Equal(("finished", 9), ((string)status["state"]!, (int)status["completed"]!));
        Assert.Contains($"{id} finished: 9/9 completed", stderr);   // progress went to stderr
        return id;
    }

    [Fact]
    public void Submit_then_status_follow_waits_for_the_end_and_the_remote_leaderboard_equals_the_local_one()
    {
        var id = SubmitAndFollow("a");
        foreach (var format in new[] { "table", "json", "csv" })
        {
            string[] query = ["--sweep", id, "--top", "4", "--format", format];
            var remote = Cli(["leaderboard", "--coordinator", _server.Url, .. query]);
            var local = Cli(["leaderboard", "--state", _files.State, .. query]);
            Assert.True(remote.Exit == 0, remote.Err);
            Assert.Equal((0, local.Out), (local.Exit, remote.Out));
        }
        string[] groups = ["--sweep", id, "--group-by", "hidden_size", "--metric", "test:ndcg@10", "--format", "csv"];
        Assert.Equal(Cli(["leaderboard", "--state", _files.State, .. groups]).Out, Cli(["leaderboard", "--coordinator", _server.Url, .. groups]).Out);
        string[] history = ["--sweep", id, "--trial", "2", "--format", "json"];
        Assert.Equal(Cli(["leaderboard", "--state", _files.State, .. history]).Out, Cli(["leaderboard", "--coordinator", _server.Url, .. history]).Out);

        var bad = Cli("leaderboard", "--coordinator", _server.Url, "--sweep", id, "--metric", "bogus");
        Assert.Equal((2, "error: --metric 'bogus' is not a metric name like ndcg@10 or test:ndcg@10"), (bad.Exit, bad.Err.Trim()));

        var (exit, table, _) = Cli("status", "--coordinator", _server.Url);
        Assert.Equal(0, exit);
        Assert.Contains(id, table);
        Assert.Contains("finished", table);
    }

    [Fact]
    public void An_invalid_sweep_file_prints_the_servers_problems_and_exits_2()
    {
        var path = Write(SweepFiles.Grid(3).Replace("hidden_size:", "hiden_size:"), "bad.yaml");
        var (exit, stdout, stderr) = Cli("submit", path, "--coordinator", _server.Url);
        Assert.Equal(2, exit);
        Assert.Empty(stdout);
        Assert.Matches($@"{Path.GetFileName(path)}:\d+:\d+: .*hiden_size", stderr);
        Assert.Contains("nothing was started", stderr);
        Assert.Contains("\"sweeps\":[]", Cli("status", "--coordinator", _server.Url, "--json").Out);
    }

    [Fact]
    public async Task Cancel_stops_a_running_sweep_and_cluster_shows_the_slots()
    {
        var id = Cli("submit", Write(SweepFiles.Grid(3).Replace("name: t", "name: hang")), "--coordinator", _server.Url).Out.Trim();
        await _server.Until(id, s => (int)s["running"]! == 2);
        var (exit, cluster, _) = Cli("cluster", "--coordinator", _server.Url, "--json");
        Assert.Equal(0, exit);
        Assert.Equal((2, 2, 0), ((int)JsonNode.Parse(cluster)!["slots_total"]!, (int)JsonNode.Parse(cluster)!["slots_busy"]!,
            (int)JsonNode.Parse(cluster)!["slots_free"]!));
        Assert.Contains("2 busy", Cli("cluster", "--coordinator", _server.Url).Out);

        var (cancelExit, stdout, stderr) = Cli("cancel", "--coordinator", _server.Url, "--sweep", id);
        Assert.True(cancelExit == 0, stderr);
        Assert.StartsWith($"{id} cancelled", stdout);
        Assert.Equal("cancelled", (string)(await _server.Ended(id))["state"]!);
    }

    [Theory]
    [InlineData("unknown sweep 'nope'|no sweep 'nope'", "status", "--sweep", "nope")]
    [InlineData("no sweep 'nope'", "leaderboard", "--sweep", "nope")]
    [InlineData("which sweep?", "leaderboard")]
    [InlineData("no sweep 'nope'", "cancel", "--sweep", "nope")]
    public void Bad_input_to_a_coordinator_exits_2(string message, params string[] args)
    {
        var (exit, _, stderr) = Cli([.. args, "--coordinator", _server.Url]);
        Assert.Equal(2, exit);
        Assert.Matches(message.Replace("?", @"\?"), stderr);
    }

    [Fact]
    public void A_coordinator_that_is_not_there_is_a_clear_failure()
    {
        var (exit, _, stderr) = Cli("status", "--coordinator", "http://127.0.0.1:1");
        Assert.Equal(1, exit);
        Assert.Contains("cannot reach the coordinator at http://127.0.0.1:1/: connection refused", stderr);
        Assert.Equal(2, Cli("cluster", "--coordinator", "ftp://x").Exit);
        Assert.Equal(2, Cli("leaderboard", "--coordinator", _server.Url, "--state", _files.State, "--sweep", "x").Exit);
        Assert.Equal(2, Cli("node", "coordinator", "--state", _files.State, "--http", "127.0.0.1").Exit);
    }
}
