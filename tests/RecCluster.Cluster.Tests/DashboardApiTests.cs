using System.IO.Compression;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Akka.TestKit.Xunit2;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;

namespace RecCluster.Cluster.Tests;

/// <summary>What the dashboard adds to the API: the event stream, the curves, the pages, and the read-only server over a store.</summary>
public sealed class DashboardApiTests() : TestKit(TestSystems.SerializeMessages), IAsyncLifetime
{
    private readonly SweepFiles _files = new();
    private ApiServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiServer.StartAsync(Sys, _files.State, hang: id => id.SweepId.StartsWith("hang-"));

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Shutdown();   // the actors (the leaderboard holds its store open) stop before their folder goes
        _files.Dispose();
    }

    private Task<string> Submit(string name) =>
        _server.Submit(SweepFiles.Grid(3).Replace("name: t", $"name: {name}"), Path.Combine(_files.Folder, "sweep.yaml"));

    [Fact]
    public async Task The_event_stream_says_hello_then_sends_a_running_sweeps_changes_and_ends_when_the_server_stops()
    {
        using var response = await _server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/events"),
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var stream = new StreamReader(await response.Content.ReadAsStreamAsync());
        var hello = await Next(stream);
        Assert.Equal(("hello", 1000), (hello.Type, (int)hello.Data["interval_ms"]!));

        // Trials of a hang- sweep report epoch 1 and then nothing: they stay running.
        var id = await Submit("hang-live");
        var seen = new List<(string Type, JsonObject Data)>();
        while (!(seen.Any(e => e.Type == "sweep" && (string)e.Data["sweep_id"]! == id)
            && seen.Any(e => e.Type == "trial" && (int)e.Data["index"]! == 0 && (string)e.Data["status"]! == "running")
            && seen.Any(e => e.Type == "epoch" && (int)e.Data["trial"]! == 0 && (int)e.Data["epoch"]! == 1)))
            seen.Add(await Next(stream));
        var epoch = seen.First(e => e.Type == "epoch").Data;
        Assert.Equal(id, (string)epoch["sweep_id"]!);
        Assert.NotNull(epoch["valid"]!["ndcg@10"]);
        // Every epoch the store holds is sent, and none twice: read on until what was sent is what the store holds (a hang- sweep's
        // store stops growing once its running trials reported epoch 1), then compare as (trial, attempt, epoch).
        static (int, int, int) Key(JsonNode e, int trial) => (trial, (int)e["attempt"]!, (int)e["epoch"]!);
        var sent = seen.Where(e => e.Type == "epoch").Select(e => Key(e.Data, (int)e.Data["trial"]!)).ToList();
        while (true)
        {
            var stored = (await _server.Get($"/api/sweeps/{id}/curves")).Body!["trials"]!.AsArray()
                .SelectMany(t => t!["epochs"]!.AsArray().Select(e => Key(e!, (int)t["trial"]!))).ToHashSet();
            if (stored.SetEquals(sent)) break;
            Assert.Subset(stored, sent.ToHashSet());   // nothing sent that the store does not hold
            var next = await Next(stream);
            if (next.Type == "epoch") sent.Add(Key(next.Data, (int)next.Data["trial"]!));
        }
        Assert.Equal(sent.Count, sent.Distinct().Count());

        // Stopping the server ends the stream at once rather than waiting for the client.
        var clock = Stopwatch.StartNew();
        await _server.Api.DisposeAsync();
        var rest = await stream.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{clock.Elapsed}; then: {rest}");
    }

    [Fact]
    public async Task A_store_alone_serves_the_same_sweeps_and_curves_read_only_with_the_pages()
    {
        var id = await Submit("done");
        await _server.Ended(id);
        var reader = Sys.ActorOf(StoreReader.Props(new LeaderboardSettings(_files.State, ReadOnly: true)));
        await using var store = await CoordinatorApi.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), reader,
            options: new ApiOptions(ReadOnly: true, Mode: ServerMode.Store));
        using var http = new HttpClient { BaseAddress = store.Address };
        async Task<string> Text(string path) => await http.GetStringAsync(path);

        foreach (var path in new[] { "/api/sweeps", $"/api/sweeps/{id}", $"/api/sweeps/{id}/curves", $"/api/sweeps/{id}/leaderboard?top=100" })
            Assert.Equal((await _server.Get(path)).Body!.ToJsonString(), JsonNode.Parse(await Text(path))!.ToJsonString());
        var curves = JsonNode.Parse(await Text($"/api/sweeps/{id}/curves"))!;
        Assert.Equal(9, curves["trials"]!.AsArray().Count);
        Assert.All(curves["trials"]!.AsArray(), t => Assert.Equal(3, t!["epochs"]!.AsArray().Count));
        Assert.Equal("store", (string)JsonNode.Parse(await Text("/api/cluster"))!["mode"]!);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.DeleteAsync($"/api/sweeps/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("/api/sweeps", new StringContent("name: x"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/api/sweeps/nope/curves")).StatusCode);

        // The pages are built in, and open without a token (they hold no data); only what they name is served.
        using var open = new HttpClient { BaseAddress = _server.Api.Address };
        using var page = await open.GetAsync("/");
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        Assert.Contains("/assets/vendor/echarts.min.js", await page.Content.ReadAsStringAsync());
        foreach (var asset in new[] { "app.js", "app.css", "vendor/echarts.min.js", "vendor/echarts-LICENSE.txt" })
            Assert.Equal(HttpStatusCode.OK, (await open.GetAsync($"/assets/{asset}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await open.GetAsync("/assets/../RecCluster.Api.dll")).StatusCode);
        // The library is built in gzipped: a client that takes gzip gets it so, any other client gets the script unpacked.
        string plain = await open.GetStringAsync("/assets/vendor/echarts.min.js");
        Assert.Contains("Licensed to the Apache Software Foundation", plain[..200]);
        using var ask = new HttpRequestMessage(HttpMethod.Get, "/assets/vendor/echarts.min.js");
        ask.Headers.AcceptEncoding.ParseAdd("gzip");
        using var packed = await open.SendAsync(ask);
        Assert.Equal(("gzip", "text/javascript"), (packed.Content.Headers.ContentEncoding.Single(), packed.Content.Headers.ContentType!.MediaType));
        using var unpacked = new StreamReader(new GZipStream(await packed.Content.ReadAsStreamAsync(), CompressionMode.Decompress));
        Assert.Equal(plain, await unpacked.ReadToEndAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await open.GetAsync("/api/events")).StatusCode);
    }

    [Fact]
    public async Task A_tokenless_loopback_server_answers_loopback_host_names_only_on_every_path()
    {
        // DNS rebinding: a page at http://evil.example:PORT/ whose name now resolves to 127.0.0.1 sends Host: evil.example:PORT.
        await using var open = await CoordinatorApi.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), _server.Manager);
        using var http = new HttpClient { BaseAddress = open.Address };
        async Task<HttpResponseMessage> Get(string path, string host)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.Host = host;
            return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        }
        int port = open.Address.Port;
        foreach (var path in new[] { "/", "/assets/app.js", "/api/sweeps", "/api/events", "/api/cluster", "/healthz" })
        {
            foreach (var host in new[] { $"evil.example:{port}", "evil.example", $"127.0.0.2:{port}", $"localhost.evil.example:{port}" })
            {
                using var refused = await Get(path, host);
                Assert.True(refused.StatusCode == HttpStatusCode.MisdirectedRequest, $"{path} with Host {host}: {refused.StatusCode}");
                Assert.Contains("127.0.0.1, localhost or [::1]", await refused.Content.ReadAsStringAsync());
            }
            foreach (var host in new[] { $"127.0.0.1:{port}", $"localhost:{port}", "LOCALHOST:1", $"[::1]:{port}" })
            {
                using var answered = await Get(path, host);
                Assert.True(answered.StatusCode == HttpStatusCode.OK, $"{path} with Host {host}: {answered.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task The_pages_forbid_sniffing_framing_and_foreign_script_and_event_streams_are_capped()
    {
        await using var open = await CoordinatorApi.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), _server.Manager);
        using var http = new HttpClient { BaseAddress = open.Address };
        foreach (var path in new[] { "/", "/assets/app.js" })
        {
            using var page = await http.GetAsync(path);
            Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
            var policy = page.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("default-src 'self'", policy);
            Assert.Contains("frame-ancestors 'none'", policy);
            Assert.DoesNotContain("script-src", policy);   // scripts fall back to default-src 'self': no inline script
        }
        var streams = new List<HttpResponseMessage>();
        try
        {
            for (int i = 0; i < CoordinatorApi.MaxEventClients; i++)
            {
                streams.Add(await http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead));
                Assert.Equal(HttpStatusCode.OK, streams[^1].StatusCode);
            }
            using (var one = await http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead))
                Assert.Equal(HttpStatusCode.ServiceUnavailable, one.StatusCode);
        }
        finally
        {
            foreach (var stream in streams) stream.Dispose();
        }
    }

    /// <summary>The next event of a Server-Sent Events stream (comments skipped), within 20 s.</summary>
    private static async Task<(string Type, JsonObject Data)> Next(StreamReader stream)
    {
        string? type = null, data = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (await stream.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ")) type = line[7..];
            else if (line.StartsWith("data: ")) data = line[6..];
            else if (line.Length == 0 && type is not null && data is not null) return (type, JsonNode.Parse(data)!.AsObject());
        }
        throw new EndOfStreamException("the event stream ended");
    }
}
