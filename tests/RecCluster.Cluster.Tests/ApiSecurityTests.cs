using System.Net;
using System.Net.Http.Headers;
using Akka.TestKit.Xunit2;
using RecCluster.Api;
using RecCluster.Cli;

namespace RecCluster.Cluster.Tests;

/// <summary>The API's token (every /api endpoint refuses a request without it; the CLI clients send it) and node flags.</summary>
public sealed class ApiSecurityTests() : TestKit(TestSystems.SerializeMessages), IAsyncLifetime
{
    private readonly SweepFiles _files = new();
    private ApiServer _server = null!;

    public async Task InitializeAsync() => _server = await ApiServer.StartAsync(Sys, _files.State);

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Shutdown();   // the actors (the leaderboard holds its store open) stop before their folder goes
        _files.Dispose();
    }

    private async Task<HttpStatusCode> Send(string method, string path, AuthenticationHeaderValue? authorization, string? body = null)
    {
        using var http = new HttpClient { BaseAddress = _server.Api.Address };
        http.DefaultRequestHeaders.Authorization = authorization;
        // Only the status is read: GET /api/events answers a stream that never ends by itself.
        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = body is null ? null : new StringContent(body),
        }, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.Unauthorized) Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        return response.StatusCode;
    }

    [Fact]
    public async Task Every_api_endpoint_refuses_a_missing_or_wrong_token_with_401_and_healthz_stays_open()
    {
        // The endpoints as the server maps them, so one added later is checked too.
        var endpoints = _server.Api.Endpoints.Where(e => e.Pattern.StartsWith("/api/")).ToList();
        Assert.True(endpoints.Count >= 8, string.Join(", ", endpoints));
        endpoints.Add(("GET", "/api/not-an-endpoint"));
        var yaml = SweepFiles.Grid(3);
        AuthenticationHeaderValue?[] refused =
            [null, new("Bearer", ApiServer.Token + "x"), new("Bearer", ApiServer.Token[..^1]), new("Basic", ApiServer.Token)];
        foreach (var (method, pattern) in endpoints)
        {
            var path = pattern.Replace("{id}", "t-1").Replace("{n}", "0");
            foreach (var authorization in refused)
                Assert.True(await Send(method, path, authorization, yaml) == HttpStatusCode.Unauthorized, $"{method} {path} {authorization}");
            // A token in the query string is not a token.
            var query = path + (path.Contains('?') ? "&" : "?") + "access_token=" + ApiServer.Token;
            Assert.Equal(HttpStatusCode.Unauthorized, await Send(method, query, null, yaml));
            // With the token the request gets through (a broken body, so that the POST starts nothing).
            Assert.NotEqual(HttpStatusCode.Unauthorized, await Send(method, path, new("Bearer", ApiServer.Token), "name: ["));
        }
        Assert.Empty((await _server.Get("/api/sweeps")).Body!["sweeps"]!.AsArray());   // the refused POSTs started nothing
        Assert.Equal(0, _server.Launcher.Running);
        Assert.Equal(HttpStatusCode.OK, await Send("GET", "/healthz", null));
    }

    [Theory]
    [InlineData("short", "at least 16 characters")]
    [InlineData("                    ", "at least 16 characters")]
    [InlineData("0123456789abcdef 0123", "one line without spaces")]
    [InlineData("0123456789abcdef\n0123", "one line without spaces")]
    public void A_weak_or_malformed_token_is_refused_naming_its_source(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => ApiToken.Parse(text, "--token-file /x"));
        Assert.StartsWith("--token-file /x: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void A_token_file_ends_at_its_newline_and_the_token_never_shows_in_text()
    {
        var file = Path.Combine(_files.Folder, "token");
        File.WriteAllText(file, ApiServer.Token + "\n");
        var token = ApiToken.FromFile(file, "--token-file");
        Assert.True(token.Accepts("Bearer " + ApiServer.Token));
        Assert.True(token.Accepts("bearer " + ApiServer.Token));
        Assert.False(token.Accepts(ApiServer.Token));
        Assert.DoesNotContain(ApiServer.Token, token.ToString());
        var missing = Assert.Throws<FormatException>(() => ApiToken.FromFile(file + "no-such-file", "--token-file"));
        Assert.Contains("no-such-file", missing.Message);
    }

    private static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        return (CliApp.Run(args, output, error), output.ToString(), error.ToString());
    }

    [Fact]
    public void The_cli_clients_send_the_token_and_say_when_it_is_missing_or_wrong()
    {
        foreach (var command in new[] { "status", "cluster" })
        {
            var (exit, _, stderr) = Cli(command, "--coordinator", _server.Url);
            Assert.Equal((2, $"error: the coordinator at {_server.Url}/ refused the request: it needs a token (--token or RECCLUSTER_TOKEN)"),
                (exit, stderr.Trim()));
            (exit, _, stderr) = Cli(command, "--coordinator", _server.Url, "--token", ApiServer.Token + "x");
            Assert.Equal((2, "wrong token"), (exit, stderr.Trim()[^11..]));
            Assert.DoesNotContain(ApiServer.Token, stderr);
            Assert.Equal(0, Cli(command, "--coordinator", _server.Url, "--token", ApiServer.Token).Exit);
        }
        Assert.Equal(2, Cli("status", "--coordinator", _server.Url, "--token", "two words").Exit);
        Assert.Contains("--token is for --coordinator", Cli("leaderboard", "--state", _files.State, "--token", ApiServer.Token).Err);
    }

    [Fact]
    public void The_api_s_flags_without_an_api_are_bad_input()
    {
        foreach (var flag in new[] { "--insecure", "--token-file=" + Path.Combine(_files.Folder, "token") })
        {
            var (exit, _, stderr) = Cli("node", "coordinator", "--state", _files.State, flag);
            Assert.Equal((2, "error: --token-file and --insecure are the HTTP API's: add --http ADDR:PORT (or RECCLUSTER_HTTP)"),
                (exit, stderr.Trim()));
        }
    }

    [Theory]
    [InlineData("0.0.0.0:0")]
    [InlineData("[::]:0")]
    public void A_coordinator_serving_the_api_off_loopback_without_a_token_refuses_to_start(string address)
    {
        var (exit, _, stderr) = Cli("node", "coordinator", "--state", _files.State, "--http", address);
        Assert.Equal(2, exit);
        Assert.Contains($"--http {address}: the API would be reachable from other machines without a token", stderr);
        Assert.Contains("--insecure", stderr);
        var weak = Path.Combine(_files.Folder, "weak-token");
        File.WriteAllText(weak, "short\n");
        (exit, _, stderr) = Cli("node", "coordinator", "--state", _files.State, "--http", address, "--token-file", weak);
        Assert.Equal((2, $"error: --token-file {weak}: the token must be at least 16 characters (e.g. `openssl rand -hex 32`)"),
            (exit, stderr.Trim()));
    }

    [Theory]
    [InlineData("coordinator", "--state")]
    [InlineData("worker", "--storage")]
    public void A_data_root_that_does_not_exist_is_bad_input(string role, string folderFlag)
    {
        var missing = Path.Combine(_files.Folder, "no-such-root");
        var (exit, _, stderr) = Cli("node", role, folderFlag, _files.State, "--seeds", "akka.tcp://reccluster@127.0.0.1:1",
            "--data-root", _files.Folder, "--data-root", missing);
        Assert.Equal((2, $"error: --data-root {missing}: no such folder"), (exit, stderr.Trim()));
    }
}
