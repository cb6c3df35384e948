using System.Net;
using System.Text.Json.Nodes;
using RecCluster.Nodes.Tests;

namespace RecCluster.Cli.Tests;

/// <summary><c>sweep --dashboard</c> and <c>dashboard --state</c> as processes, as a user runs them.</summary>
public sealed class DashboardCommandTests : IDisposable
{
    // Two trials of several seconds each, one after the other (one slot), every epoch run: long enough to ask the dashboard
    // while they run, with a known count of epochs.
    private const string Sweep = """
        {name: live, data: {synthetic: {users: 300, items: 40, clusters: 3, min_length: 6, max_length: 14, seed: 3}},
         evaluation: {cutoffs: [10], metrics: [ndcg]}, objective: {metric: ndcg@10, mode: max}, search: {algorithm: grid},
         models: {sasrec: {hidden_size: [8, 16], inner_size: 16, max_seq_length: 14, batch_size: 64, n_epochs: 40,
           early_stopping_step: 0, device: cpu}},
         scheduler: fifo, resources: {cpus_per_trial: 1}}
        """;

    private readonly TempFolder _temp = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        _http.Dispose();
        _temp.Dispose();
    }

    private static Uri Url(NodeProcess process)
    {
        var line = process.WaitForLog("dashboard at ");
        return new Uri(line[(line.IndexOf("dashboard at ", StringComparison.Ordinal) + "dashboard at ".Length)..].Trim());
    }

    private async Task<JsonNode> Get(Uri server, string path) => JsonNode.Parse(await _http.GetStringAsync(new Uri(server, path)))!;

    [Fact]
    public void Sweep_with_the_dashboard_on_a_taken_port_fails_as_bad_input_before_writing_anything()
    {
        var config = _temp.Write("live.yaml", Sweep);
        var state = _temp.Combine("state");
        var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            int port = ((IPEndPoint)taken.LocalEndpoint).Port;
            using var sweep = NodeProcess.Cli("sweep", ["sweep", config, "--state", state, "--slots", "1", "--dashboard", "--port", $"{port}"]);
            Assert.Contains($"--port {port}", sweep.WaitForLog("cannot listen"));
            Assert.Equal(2, sweep.WaitForExit());
            // No sweep was started: nothing in the state folder (not even the leaderboard).
            Assert.True(!Directory.Exists(state) || !Directory.EnumerateFileSystemEntries(state).Any(),
                string.Join(", ", Directory.Exists(state) ? Directory.EnumerateFileSystemEntries(state) : []));
        }
        finally
        {
            taken.Stop();
        }
    }

    [Fact]
    public async Task Sweep_serves_the_dashboard_in_local_mode_while_it_runs_and_dashboard_serves_its_folder_read_only_until_SIGTERM()
    {
        var config = _temp.Write("live.yaml", Sweep);
        var state = _temp.Combine("state");
        using (var sweep = NodeProcess.Cli("sweep", ["sweep", config, "--state", state, "--slots", "1", "--dashboard", "--port", "0"]))
        {
            var server = Url(sweep);
            var cluster = await Get(server, "/api/cluster");
            Assert.Equal(("local", 1), ((string)cluster["mode"]!, (int)cluster["slots_total"]!));
            Assert.Contains("/assets/app.js", await _http.GetStringAsync(server));
            using (var post = await _http.PostAsync(new Uri(server, "/api/sweeps"), new StringContent("name: x")))
                Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            Assert.Equal(0, sweep.WaitForExit());
            // The dashboard ended with the sweep.
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => _http.GetStringAsync(new Uri(server, "/api/cluster")));
        }

        using var dashboard = NodeProcess.Cli("dashboard", ["dashboard", "--state", state, "--port", "0"]);
        var url = Url(dashboard);
        var only = Assert.Single((await Get(url, "/api/sweeps"))["sweeps"]!.AsArray())!;
        Assert.Equal(("finished", 2, 2, 80L), ((string)only["state"]!, (int)only["trials"]!, (int)only["completed"]!,
            (long)only["total_epochs"]!));
        Assert.Equal("store", (string)(await Get(url, "/api/cluster"))["mode"]!);
        dashboard.Terminate();
        Assert.Equal(0, dashboard.WaitForExit());
        Assert.Contains("stopping", dashboard.WaitForLog("dashboard: stopping"));
    }
}
