using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using RecCluster.Api;

namespace RecCluster.Cli;

/// <summary>
/// The CLI's side of the coordinator's HTTP API: requests with a timeout, answers read with the server's JSON options, and
/// failures turned into the CLI's (a refused connection or a server error exits 1; a 400 or 404 is bad input, exit 2).
/// </summary>
public sealed class CoordinatorClient : IDisposable
{
    public const string Variable = "RECCLUSTER_COORDINATOR";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;

    private CoordinatorClient(Uri url, string? token)
    {
        _http = new HttpClient { BaseAddress = url, Timeout = Timeout };
        // Only ever the header: a token in the URL would end up in proxies' and servers' access logs.
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri Url => _http.BaseAddress!;

    /// <summary><c>--coordinator</c> and <c>--token</c>, added to a client command.</summary>
    public static ClientOptions Options(Command command)
    {
        var url = new Option<string?>("--coordinator")
        {
            Description = $"The coordinator's HTTP API, e.g. http://127.0.0.1:5080 (env {Variable}; `reccluster node coordinator --http` " +
                "serves it).",
        };
        var token = new Option<string?>("--token")
        {
            Description = $"The API's bearer token (env {ApiToken.Variable}, which other users cannot read in the process list).",
        };
        command.Options.Add(url);
        command.Options.Add(token);
        return new ClientOptions(url, token);
    }

    /// <summary>The client for the flag's URL, else the environment variable's; null when neither is set.</summary>
    public static CoordinatorClient? From(ParseResult parse, ClientOptions options)
    {
        if ((parse.GetValue(options.Url) ?? Environment.GetEnvironmentVariable(Variable)) is not { Length: > 0 } text) return null;
        // An empty variable counts as unset, as on the nodes; an empty --token is a mistake.
        var token = parse.GetValue(options.Token)
            ?? (Environment.GetEnvironmentVariable(ApiToken.Variable) is { Length: > 0 } set ? set : null);
        if (token is not null && !ApiToken.IsOneWord(token))
            throw new UsageException($"--token (or {ApiToken.Variable}): the token must be one word without spaces");
        return new CoordinatorClient(Parse(text), token);
    }

    public static CoordinatorClient Require(ParseResult parse, ClientOptions options) => From(parse, options)
        ?? throw new UsageException($"which coordinator? --coordinator URL (or {Variable}), e.g. http://127.0.0.1:5080");

    private static Uri Parse(string text)
    {
        if (!text.Contains("://")) text = "http://" + text;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Host.Length == 0)
            throw new UsageException($"--coordinator: '{text}' is not an http URL like http://127.0.0.1:5080");
        return new Uri(url.GetLeftPart(UriPartial.Authority) + "/");
    }

    public T Get<T>(string path) => Read<T>(Send(HttpMethod.Get, path));

    public string GetText(string path) => Send(HttpMethod.Get, path);

    public T Delete<T>(string path) => Read<T>(Send(HttpMethod.Delete, path));

    public T Post<T>(string path, string text, TextWriter problems) =>
        Read<T>(Send(HttpMethod.Post, path, new StringContent(text, Encoding.UTF8, new MediaTypeHeaderValue("application/yaml")), problems));

    /// <summary>The answer's body; a failure answer is thrown as the CLI's error, the server's problem lines written first.</summary>
    private string Send(HttpMethod method, string path, HttpContent? content = null, TextWriter? problems = null)
    {
        try
        {
            using var response = _http.Send(new HttpRequestMessage(method, path) { Content = content });
            using var reader = new StreamReader(response.Content.ReadAsStream(), Encoding.UTF8);
            var body = reader.ReadToEnd();
            if (response.IsSuccessStatusCode) return body;
            var error = Error(body) ?? new ApiError($"{(int)response.StatusCode} {response.ReasonPhrase}");
            if (problems is not null)
                foreach (var line in error.Errors ?? []) problems.WriteLine(line);
            throw response.StatusCode switch
            {
                HttpStatusCode.BadRequest when error.Parameter is { } p && error.Error.StartsWith(p + ": ") =>
                    new UsageException($"--{p.Replace('_', '-')} {error.Error[(p.Length + 2)..]}"),
                HttpStatusCode.BadRequest or HttpStatusCode.NotFound or HttpStatusCode.RequestEntityTooLarge => new UsageException(error.Error),
                HttpStatusCode.Unauthorized => new UsageException(
                    $"the coordinator at {Url} refused the request: {(_http.DefaultRequestHeaders.Authorization is null
                        ? $"it needs a token (--token or {ApiToken.Variable})" : "wrong token")}"),
                _ => new InvalidOperationException($"the coordinator at {Url} answered {(int)response.StatusCode}: {error.Error}"),
            };
        }
        catch (HttpRequestException e)
        {
            var why = e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                ? "connection refused (is `reccluster node coordinator --http ...` running there?)" : e.Message;
            throw new InvalidOperationException($"cannot reach the coordinator at {Url}: {why}");
        }
        catch (TaskCanceledException)
        {
            throw new InvalidOperationException($"the coordinator at {Url} did not answer within {Timeout.TotalSeconds:0} s");
        }
    }

    private static ApiError? Error(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<ApiError>(body, ApiJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private T Read<T>(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, ApiJson.Options) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"the coordinator at {Url} sent an answer this client cannot read: {e.Message}");
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A client command's <c>--coordinator</c> and <c>--token</c> options.</summary>
public sealed record ClientOptions(Option<string?> Url, Option<string?> Token);
