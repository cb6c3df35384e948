using System.Net;
using System.Text;
using System.Net.Http.Json;
using System.Text.Json;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Security;

namespace RecCluster.Cluster.Tests;

public sealed class ApiTests() : TestKit(TestSystems.SerializeMessages), IAsyncLifetime
{
    private readonly SweepFiles _files = new();
    private ApiServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiServer.StartAsync(Sys, _files.State,
        hang: id => id.SweepId.StartsWith("hang-"),
        roots: DataRoots.Of([Directory.CreateDirectory(Path.Combine(_files.Folder, "data")).FullName], "--data-root"));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Shutdown();   // the actors (the leaderboard holds its store open) stop before their folder goes
        _files.Dispose();
    }

    private string SweepPath(string name = "sweep.yaml") => Path.Combine(_files.Folder, name);

    private static string Named(string name, string extra = "") => SweepFiles.Grid(3, extra).Replace("name: t", $"name: {name}");

    private T Store<T>(IProtocolMessage query) => _server.Leaderboard.Ask<T>(query, ApiServer.Patience).Result;

    private static string Json(object value) => JsonSerializer.Serialize(value, value.GetType(), ApiJson.Options);

    [Fact]
    public async Task A_submitted_sweep_runs_to_finished_and_its_status_counts_the_trials()
    {
        var id = await _server.Submit(Named("a"), SweepPath());
        var end = await _server.Ended(id);
        Assert.Equal(("finished", 9, 9, 0, 0, 27L), ((string)end["state"]!, (int)end["trials"]!, (int)end["completed"]!, (int)end["failed"]!,
            (int)end["running"]!, (long)end["total_epochs"]!));
        // Trial 8 scores best; its validation objective at the best epoch is 0.01 × 3 × 9.
        Assert.Equal(8, (int)end["best"]!["trial"]!);
        Assert.Equal(0.27, (double)end["best"]!["valid"]!["ndcg@10"]!, 9);
        Assert.Equal("ndcg@10", (string)end["best"]!["metric"]!);

        var (status, list) = await _server.Get("/api/sweeps");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonSerializer.Serialize(end), JsonSerializer.Serialize(Assert.Single(list!["sweeps"]!.AsArray())));
        // Submitting the same text again is the same sweep, and runs nothing twice.
        Assert.Equal(id, await _server.Submit(Named("a"), SweepPath()));
        Assert.Equal(9, (int)(await _server.Ended(id))["completed"]!);
    }

    [Fact]
    public async Task An_invalid_sweep_is_answered_400_with_file_line_col_problems_and_nothing_starts()
    {
        var yaml = Named("bad").Replace("hidden_size:", "hiden_size:").Replace("scheduler: fifo", "scheduler: fifoo");
        var (status, body) = await _server.Send(HttpMethod.Post, $"/api/sweeps?path={Uri.EscapeDataString(SweepPath("bad.yaml"))}",
            new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var problems = body!["errors"]!.AsArray().Select(e => (string)e!).ToList();
        Assert.True(problems.Count >= 2, string.Join("\n", problems));
        Assert.All(problems, p => Assert.Matches(@"^/.*bad\.yaml:\d+:\d+: ", p));
        Assert.Contains(problems, p => p.Contains("hiden_size"));
        Assert.Contains("nothing was started", (string)body["error"]!);
        Assert.Empty((await _server.Get("/api/sweeps")).Body!["sweeps"]!.AsArray());
        Assert.Empty(Store<SweepRows>(new QuerySweeps()).Sweeps);
        Assert.Equal(0, _server.Launcher.Running);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("text/yaml")]
    [InlineData(null)]
    public async Task A_sweep_posted_as_anything_but_yaml_is_refused_with_415_and_starts_nothing(string? contentType)
    {
        // What a cross-origin page can send without a CORS preflight (text/plain, forms) must not queue a sweep.
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(Named("plain")));
        if (contentType is not null) content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var (status, body) = await _server.Send(HttpMethod.Post, $"/api/sweeps?path={Uri.EscapeDataString(SweepPath())}", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("application/yaml", (string)body!["error"]!);
        Assert.Empty((await _server.Get("/api/sweeps")).Body!["sweeps"]!.AsArray());
        Assert.Empty(Store<SweepRows>(new QuerySweeps()).Sweeps);
    }

    [Fact]
    public async Task A_sweep_posted_as_application_x_yaml_is_accepted()
    {
        var (status, body) = await _server.Send(HttpMethod.Post, $"/api/sweeps?path={Uri.EscapeDataString(SweepPath())}",
            new StringContent(Named("xyaml"), Encoding.UTF8, "application/x-yaml"));
        Assert.True(status == HttpStatusCode.Created, $"{status}: {body}");
    }

    [Fact]
    public async Task A_body_over_the_limit_is_refused_with_413()
    {
        var huge = "# " + new string('x', (int)CoordinatorApi.MaxBodyBytes) + "\n" + Named("big");
        var (status, body) = await _server.Send(HttpMethod.Post, "/api/sweeps", new StringContent(huge, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("larger than", (string)body!["error"]!);
        Assert.Empty((await _server.Get("/api/sweeps")).Body!["sweeps"]!.AsArray());
    }

    [Fact]
    public async Task A_billion_laughs_body_is_refused_with_400_quickly_and_starts_nothing()
    {
        // Nine levels of ten aliases each: 10^9 nodes if anything expanded it.
        var levels = Enumerable.Range(1, 9).Select(i => $"l{i}: &l{i} [{string.Join(",", Enumerable.Repeat($"*l{i - 1}", 10))}]");
        var yaml = $"name: lol\nl0: &l0 [lol]\n{string.Join("\n", levels)}\nmodels: {{sasrec: {{hidden_size: *l9}}}}\n";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var (status, body) = await _server.Send(HttpMethod.Post, $"/api/sweeps?path={Uri.EscapeDataString(SweepPath("lol.yaml"))}",
            new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"{watch.Elapsed}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Matches(@"lol\.yaml:7:\d+: the document expands to more than 100000 nodes", (string)body!["errors"]![0]!);
        Assert.Empty((await _server.Get("/api/sweeps")).Body!["sweeps"]!.AsArray());
        Assert.Equal(0, _server.Launcher.Running);
    }

    [Theory]
    [InlineData("../secret.inter", "{0}/secret.inter is outside the data roots ({0}/data)")]
    [InlineData("/etc/passwd", "/etc/passwd is outside the data roots ({0}/data)")]
    [InlineData("link/secret.inter", "{0}/data/link/secret.inter (it leads to {0}/secret.inter) is outside the data roots ({0}/data)")]
    public async Task A_sweep_reading_data_outside_the_data_roots_is_400_naming_the_path_and_starts_nothing(string data, string message)
    {
        File.WriteAllText(Path.Combine(_files.Folder, "secret.inter"), "user_id:token\titem_id:token\n1\t1\n");
        if (!Path.Exists(Path.Combine(_files.Folder, "data", "link")))
            Directory.CreateSymbolicLink(Path.Combine(_files.Folder, "data", "link"), _files.Folder);
        var synthetic = "{synthetic: {users: 60, items: 30, clusters: 3, min_length: 5, max_length: 10}}";
        var yaml = Named("escape").Replace(synthetic, $"{{path: {data}}}");
        var (status, body) = await _server.Send(HttpMethod.Post,
            $"/api/sweeps?path={Uri.EscapeDataString(Path.Combine(_files.Folder, "data", "sweep.yaml"))}", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.EndsWith("data.path: " + string.Format(message, _files.Folder), (string)Assert.Single(body!["errors"]!.AsArray())!);
        Assert.Empty((await _server.Get("/api/sweeps")).Body!["sweeps"]!.AsArray());
        Assert.Equal(0, _server.Launcher.Running);
    }

    [Theory]
    [InlineData("GET", "/api/sweeps/nope")]
    [InlineData("DELETE", "/api/sweeps/nope")]
    [InlineData("GET", "/api/sweeps/nope/leaderboard")]
    [InlineData("GET", "/api/sweeps/nope/trials/0")]
    public async Task An_unknown_sweep_is_404(string method, string path)
    {
        var (status, body) = await _server.Send(new HttpMethod(method), path);
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Contains("nope", (string)body!["error"]!);
    }

    [Fact]
    public async Task Deleting_a_sweep_cancels_it_and_stops_its_trials()
    {
        var id = await _server.Submit(Named("hang"), SweepPath());
        await _server.Until(id, s => (int)s["running"]! == 2);
        var (status, body) = await _server.Send(HttpMethod.Delete, $"/api/sweeps/{id}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("cancelled", (string)body!["state"]!);
        // Cancelled at once; its trials are counted as interrupted as their exits come in.
        var end = await _server.Until(id, s => (int)s["interrupted"]! == 2);
        Assert.Equal(("cancelled", 0, 0), ((string)end["state"]!, (int)end["running"]!, (int)end["completed"]!));
        Assert.Equal(0, _server.Launcher.Running);
    }

    [Fact]
    public async Task The_leaderboard_in_json_and_csv_is_the_stores_rows()
    {
        var id = await _server.Submit(Named("a"), SweepPath());
        await _server.Ended(id);
        var stored = Store<LeaderboardRows>(new QueryTop(id, "ndcg@10", true, 3)).Rows;
        Assert.Equal([8, 7, 6], stored.Select(r => r.Trial.Index));
        var expected = new TopReport(id, "ndcg@10", stored);

        var json = await _server.Http.GetStringAsync($"/api/sweeps/{id}/leaderboard?top=3");
        Assert.Equal(Json(expected), json);
        Assert.Equal(Json(expected), Json(JsonSerializer.Deserialize<TopReport>(json, ApiJson.Options)!));   // clients read it back whole
        var csv = await _server.Http.GetAsync($"/api/sweeps/{id}/leaderboard?top=3&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        Assert.Equal(expected.Grid().ToString("csv"), await csv.Content.ReadAsStringAsync());
        Assert.StartsWith("trial,model,status,best_epoch,epochs_run,attempts,node,params,valid:ndcg@10,test:ndcg@10\n8,sasrec,completed,3,3,1,",
            expected.Grid().ToString("csv"));

        var groups = Store<TrialGroups>(new QueryGroups(id, "hidden_size", "test:ndcg@10")).Groups;
        Assert.Equal(Json(new GroupsReport(id, "hidden_size", "test:ndcg@10", groups)),
            await _server.Http.GetStringAsync($"/api/sweeps/{id}/leaderboard?group_by=hidden_size&metric=test:ndcg@10"));
    }

    [Theory]
    [InlineData("leaderboard?top=0", "top")]
    [InlineData("leaderboard?top=many", "top")]
    [InlineData("leaderboard?metric=bogus", "metric")]
    [InlineData("leaderboard?format=xml", "format")]
    [InlineData("leaderboard?topp=3", "topp")]
    [InlineData("trials/first", "n")]
    public async Task A_bad_query_parameter_is_400_naming_it(string query, string parameter)
    {
        var id = await _server.Submit(Named("a"), SweepPath());
        await _server.Ended(id);
        var (status, body) = await _server.Get($"/api/sweeps/{id}/{query}");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(parameter, (string)body!["parameter"]!);
        Assert.StartsWith(parameter + ":", (string)body["error"]!);
    }

    [Fact]
    public async Task A_trials_epoch_history_is_the_stores()
    {
        var id = await _server.Submit(Named("a"), SweepPath());
        await _server.Ended(id);
        var history = Store<TrialHistory>(new QueryHistory(id, 4)).Epochs;
        Assert.Equal([1, 2, 3], history.Select(e => e.Epoch));
        Assert.Equal(Json(new HistoryReport(id, 4, history)), await _server.Http.GetStringAsync($"/api/sweeps/{id}/trials/4"));
        Assert.Equal(new HistoryReport(id, 4, history).Grid().ToString("csv"),
            await _server.Http.GetStringAsync($"/api/sweeps/{id}/trials/4?format=csv"));
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Get($"/api/sweeps/{id}/trials/99")).Status);
    }

    [Fact]
    public async Task The_cluster_endpoint_shows_the_workers_slots_and_healthz_answers()
    {
        var cluster = await _server.Http.GetFromJsonAsync<ClusterView>("/api/cluster", ApiJson.Options);
        var worker = Assert.Single(cluster!.Workers);
        Assert.Equal((2, 0, 2), (cluster.SlotsTotal, cluster.SlotsBusy, cluster.SlotsFree));
        Assert.Equal((2, 0, 2), (worker.Total, worker.Busy, worker.Free));
        Assert.Empty(cluster.Members);   // not a cluster node
        var raw = await _server.Http.GetStringAsync("/api/cluster");
        Assert.Contains("\"slots_total\":2", raw);

        var id = await _server.Submit(Named("hang"), SweepPath());
        await _server.Until(id, s => (int)s["running"]! == 2);
        cluster = await _server.Http.GetFromJsonAsync<ClusterView>("/api/cluster", ApiJson.Options);
        Assert.Equal((2, 2, 0), (cluster!.SlotsTotal, cluster.SlotsBusy, cluster.SlotsFree));

        var (status, health) = await _server.Get("/healthz");
        Assert.Equal((HttpStatusCode.OK, "ok"), (status, (string)health!["status"]!));
        Assert.Equal(HttpStatusCode.BadRequest, (await _server.Get("/healthz?verbose=1")).Status);
    }

    [Fact]
    public async Task Before_the_manager_is_attached_every_endpoint_answers_503()
    {
        await using var api = await CoordinatorApi.StartAsync(new IPEndPoint(IPAddress.Loopback, 0));
        using var http = new HttpClient { BaseAddress = api.Address };
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/api/sweeps")).StatusCode);
        api.Attach(_server.Manager);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1:5080", "127.0.0.1:5080")]
    [InlineData("localhost:0", "127.0.0.1:0")]
    [InlineData("[::1]:80", "[::1]:80")]
    [InlineData("0.0.0.0:8080", "0.0.0.0:8080")]
    public void An_http_address_parses(string text, string endpoint) => Assert.Equal(endpoint, CoordinatorApi.ParseEndpoint(text).ToString());

    [Theory]
    [InlineData("5080")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("example.org:80")]
    [InlineData("127.0.0.1:-1")]
    public void A_bad_http_address_is_a_format_error(string text) => Assert.Throws<FormatException>(() => CoordinatorApi.ParseEndpoint(text));
}
