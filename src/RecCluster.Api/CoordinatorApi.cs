using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Data;
using RecCluster.Core.Security;

namespace RecCluster.Api;

/// <summary>
/// The coordinator's HTTP API: an ASP.NET Core minimal API whose every request is a message to one actor, the sweep manager
/// (which answers sweep requests and <see cref="GetClusterState"/> and forwards leaderboard queries to its leaderboard). JSON
/// with snake_case names everywhere (see <see cref="ApiJson"/>); errors are <see cref="ApiError"/> bodies.
/// <para>
/// It listens from <see cref="StartAsync"/> on, before the node is Up: until <see cref="Attach"/> gives it the manager's ref
/// every endpoint answers 503. In the cluster that ref is the sweep manager singleton's proxy; in local mode the local sweep's
/// manager; for <c>reccluster dashboard</c> a <see cref="StoreReader"/> over a store, read-only (<see cref="ApiOptions.ReadOnly"/>).
/// </para>
/// <para>
/// It also serves the dashboard: the pages at <c>/</c> and <c>/assets/</c> (<see cref="DashboardAssets"/>, built into this
/// assembly) and <c>GET /api/events</c>, Server-Sent Events from one <see cref="EventFeed"/>.
/// </para>
/// <para>
/// With a token, every path under <c>/api</c> (those mapped here and any added later) needs the header <c>Authorization: Bearer TOKEN</c>,
/// else 401; the check is one middleware in front of them all. Other paths (<c>/healthz</c>) stay open.
/// </para>
/// </summary>
public sealed class CoordinatorApi : IAsyncDisposable
{
    /// <summary>Largest sweep text accepted (1 MiB); a larger body is answered 413.</summary>
    public const long MaxBodyBytes = 1 << 20;

    private const string Store = "the coordinator's store";
    private readonly WebApplication _app;
    private readonly TextWriter? _log;
    private readonly TimeSpan _askTimeout;
    private readonly ApiOptions _options;
    private readonly EventFeed _feed;
    private readonly CancellationTokenSource _stopping = new();
    private readonly DataRoots _roots;
    private volatile IActorRef? _manager;
    private int _disposed;
    private int _eventClients;

    /// <summary>Most event streams open at once; one more is answered 503 (each holds a connection and a feed subscription).</summary>
    public const int MaxEventClients = 64;

    /// <summary>The health check's path, open without the token (container probes ask it).</summary>
    public const string HealthPath = "/healthz";

    /// <summary>The prefix every authenticated endpoint lives under.</summary>
    public const string ApiPrefix = "/api";

    /// <summary>The media types a sweep text may be posted as: none of them is one a cross-origin page can send without a
    /// CORS preflight (text/plain, form encodings), which this server never answers.</summary>
    public static readonly IReadOnlyList<string> SweepMediaTypes = ["application/yaml", "application/x-yaml"];

    /// <summary>Host names a loopback server without a token answers to (any port).</summary>
    private static readonly string[] LoopbackHosts = ["127.0.0.1", "localhost", "[::1]"];

    private CoordinatorApi(WebApplication app, IActorRef? manager, TextWriter? log, TimeSpan askTimeout, ApiToken? token, DataRoots roots,
        ApiOptions options, bool loopbackHostsOnly)
    {
        (_app, _manager, _log, _askTimeout, _roots, _options) = (app, manager, log, askTimeout, roots, options);
        if (loopbackHostsOnly) app.Use(RequireLoopbackHost);
        if (token is not null) app.Use(RequireToken(token));
        _feed = new EventFeed(() => _manager, options.EventInterval, askTimeout, log);
        app.MapGet(HealthPath, Guard(Health));
        app.MapPost("/api/sweeps", Guard(Submit));
        app.MapGet("/api/sweeps", Guard(List));
        app.MapGet("/api/sweeps/{id}", Guard(Status));
        app.MapDelete("/api/sweeps/{id}", Guard(Cancel));
        app.MapGet("/api/sweeps/{id}/leaderboard", Guard(Leaderboard));
        app.MapGet("/api/sweeps/{id}/trials", Guard(Trials));
        app.MapGet("/api/sweeps/{id}/trials/{n}", Guard(History));
        app.MapGet("/api/sweeps/{id}/curves", Guard(Curves));
        app.MapGet("/api/cluster", Guard(ClusterState));
        app.MapGet("/api/events", Guard(Events));
        DashboardAssets.Map(app);
    }

    /// <summary>Listens at <paramref name="endpoint"/> (port 0: any free port; see <see cref="Address"/>).</summary>
    /// <param name="manager">The sweep manager, or null until <see cref="Attach"/>.</param>
    /// <param name="log">Where unexpected failures are written (stderr in the node); null: nowhere.</param>
    /// <param name="token">The bearer token every /api request needs; null: none (loopback or explicitly insecure).</param>
    /// <param name="dataRoots">Where a submitted sweep's data files must lie; null: anywhere.</param>
    /// <param name="options">Read-only or not, what serves it, how often the event feed polls; default: a cluster's coordinator.</param>
    public static async Task<CoordinatorApi> StartAsync(IPEndPoint endpoint, IActorRef? manager = null, TextWriter? log = null,
        TimeSpan? askTimeout = null, ApiToken? token = null, DataRoots? dataRoots = null, CancellationToken cancel = default,
        ApiOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [], ContentRootPath = AppContext.BaseDirectory, ApplicationName = typeof(CoordinatorApi).Assembly.GetName().Name,
        });
        builder.Logging.ClearProviders();   // the node's stdout carries its JSON event lines only
        builder.Services.RemoveAll<IHostLifetime>();
        builder.Services.AddSingleton<IHostLifetime, NoSignals>();   // the node handles SIGTERM and Ctrl+C itself
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(endpoint);
            kestrel.Limits.MaxRequestBodySize = MaxBodyBytes;
            kestrel.AddServerHeader = false;
            // Kestrel's default, set here so that it is a decision: a reader slower than this (an event stream's client that
            // stopped reading) is disconnected instead of holding the connection.
            kestrel.Limits.MinResponseDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(240, TimeSpan.FromSeconds(5));
        });
        var app = builder.Build();
        // A loopback server without a token trusts whoever reaches it, so a web page must not reach it by DNS rebinding (its own
        // host name resolving to 127.0.0.1): only loopback Host headers pass. Off loopback without a token (--insecure) anyone
        // may reach it anyway, under any name.
        bool loopbackHostsOnly = token is null && IPAddress.IsLoopback(endpoint.Address);
        var api = new CoordinatorApi(app, manager, log, askTimeout ?? TimeSpan.FromSeconds(10), token,
            dataRoots ?? DataRoots.Anywhere, options ?? new ApiOptions(), loopbackHostsOnly);
        try
        {
            await app.StartAsync(cancel);
        }
        catch
        {
            await api.DisposeAsync();   // the event feed's timer and the half-built server, then the caller sees why
            throw;
        }
        return api;
    }

    /// <summary>Where it listens, with the port it got: http://127.0.0.1:5080/.</summary>
    public Uri Address =>
        new(_app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    /// <summary>Every mapped endpoint as (HTTP method, route pattern), e.g. ("GET", "/api/sweeps/{id}").</summary>
    public IReadOnlyList<(string Method, string Pattern)> Endpoints =>
        ((IEndpointRouteBuilder)_app).DataSources.SelectMany(d => d.Endpoints).OfType<RouteEndpoint>()
        .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/'))))
        .ToList();

    /// <summary>From now on requests go to <paramref name="manager"/> (again after the node started a new incarnation).</summary>
    public void Attach(IActorRef manager) => _manager = manager;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        // Event streams never end by themselves: end them first, so that stopping the server does not wait for its timeout.
        await _stopping.CancelAsync();
        await _feed.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Parses <c>ADDR:PORT</c> (an IPv4 address, [IPv6], or localhost; port 0 = any free port).</summary>
    /// <exception cref="FormatException">With a message naming what is wrong.</exception>
    public static IPEndPoint ParseEndpoint(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
            throw new FormatException($"'{text}' is not ADDR:PORT (e.g. 127.0.0.1:5080, [::1]:5080, 0.0.0.0:5080)");
        var (host, portText) = (text[..colon], text[(colon + 1)..]);
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
            throw new FormatException($"'{text}': the port must be a number from 0 to {IPEndPoint.MaxPort}");
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new IPEndPoint(IPAddress.Loopback, port);
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (!IPAddress.TryParse(host, out var address))
            throw new FormatException($"'{text}': '{host}' is not an IP address (or localhost)");
        return new IPEndPoint(address, port);
    }

    private async Task<IResult> Health(HttpContext http, IActorRef manager)
    {
        Only(http);
        await manager.Ask<ClusterState>(new GetClusterState(), _askTimeout, http.RequestAborted);
        return Json(200, new { Status = "ok" });
    }

    private async Task<IResult> Submit(HttpContext http, IActorRef manager)
    {
        Only(http, "path");
        if (_options.ReadOnly) return ReadOnly();
        if (!IsSweepMediaType(http.Request.ContentType))
            return Json(415, new ApiError($"send the sweep as Content-Type: {SweepMediaTypes[0]} (or {SweepMediaTypes[1]}), not " +
                $"'{http.Request.ContentType ?? "none"}'"));
        string path;
        try
        {
            path = Path.GetFullPath(Text(http, "path") ?? "sweep.yaml");
        }
        catch (ArgumentException e)
        {
            throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, "path", e.Message);
        }
        if (http.Request.ContentLength > MaxBodyBytes) return TooLarge();
        string text;
        using (var reader = new StreamReader(http.Request.Body, Encoding.UTF8))
            text = await reader.ReadToEndAsync(http.RequestAborted);
        // Checked here as `reccluster sweep` checks a file, so a bad text gets every problem as file:line:col and starts nothing.
        var source = new SweepSource(path, text);
        try
        {
            ExperimentLoader.LoadSweep(source, _roots);
        }
        catch (ConfigException e)
        {
            var problems = e.Errors.Select(p => p.ToString()).ToList();
            return Json(400, new ApiError($"{problems.Count} problem(s) found; nothing was started", problems));
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            return Json(400, new ApiError(e.Message, [e.Message]));
        }
        return await manager.Ask(new SubmitSweep(source), _askTimeout, http.RequestAborted) switch
        {
            SweepAccepted accepted => Json(201, new SweepCreated(accepted.SweepId)),
            SweepRejected rejected => Json(400, new ApiError(rejected.Error, rejected.Error.Split('\n', StringSplitOptions.TrimEntries))),
            var other => throw new InvalidOperationException($"unexpected answer {other.GetType().Name}"),
        };
    }

    private async Task<IResult> List(HttpContext http, IActorRef manager)
    {
        Only(http);
        var statuses = await manager.Ask<SweepList>(new ListSweeps(), _askTimeout, http.RequestAborted);
        var views = new List<SweepView>();
        foreach (var status in statuses.Sweeps) views.Add(await View(manager, status, http.RequestAborted));
        return Json(200, new SweepViews(views));
    }

    private async Task<IResult> Status(HttpContext http, IActorRef manager)
    {
        Only(http);
        return await ViewOrNotFound(manager, new GetSweepStatus(Id(http)), http.RequestAborted);
    }

    private async Task<IResult> Cancel(HttpContext http, IActorRef manager)
    {
        Only(http);
        if (_options.ReadOnly) return ReadOnly();
        return await ViewOrNotFound(manager, new CancelSweep(Id(http)), http.RequestAborted);
    }

    private async Task<IResult> ViewOrNotFound(IActorRef manager, IProtocolMessage request, CancellationToken cancel) =>
        await manager.Ask(request, _askTimeout, cancel) switch
        {
            SweepStatus status => Json(200, await View(manager, status, cancel)),
            UnknownSweep unknown => Json(404, new ApiError($"no sweep '{unknown.SweepId}' was submitted to this coordinator")),
            var other => throw new InvalidOperationException($"unexpected answer {other.GetType().Name}"),
        };

    private async Task<SweepView> View(IActorRef manager, SweepStatus status, CancellationToken cancel)
    {
        var trials = (await manager.Ask<StoredTrials>(new QueryTrials(status.Summary.SweepId), _askTimeout, cancel)).Trials;
        return await SweepReads.ViewAsync(manager, status, trials, _askTimeout, cancel);
    }

    private async Task<IResult> Leaderboard(HttpContext http, IActorRef manager)
    {
        Only(http, "top", "metric", "group_by", "format");
        var format = Format(http);
        var request = new LeaderboardRequest(Id(http), Number(http, "top") ?? 10, Text(http, "metric"), Text(http, "group_by"));
        return Report(await LeaderboardQuery.RunAsync(manager, request, Store, _askTimeout), format);
    }

    private async Task<IResult> Trials(HttpContext http, IActorRef manager)
    {
        Only(http, "format");
        var format = Format(http);
        return Report(await LeaderboardQuery.RunAsync(manager, new LeaderboardRequest(Id(http), AllTrials: true), Store, _askTimeout), format);
    }

    private async Task<IResult> History(HttpContext http, IActorRef manager)
    {
        Only(http, "format");
        var format = Format(http);
        if (!int.TryParse((string?)http.Request.RouteValues["n"], NumberStyles.None, CultureInfo.InvariantCulture, out var trial))
            throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, "n", "the trial must be a whole number");
        return Report(await LeaderboardQuery.RunAsync(manager, new LeaderboardRequest(Id(http), Trial: trial), Store, _askTimeout), format);
    }

    private async Task<IResult> Curves(HttpContext http, IActorRef manager)
    {
        Only(http);
        return Json(200, await SweepReads.CurvesAsync(manager, Id(http), Store, _askTimeout, http.RequestAborted));
    }

    private async Task<IResult> ClusterState(HttpContext http, IActorRef manager)
    {
        Only(http);
        return Json(200, ClusterView.Of(await manager.Ask<ClusterState>(new GetClusterState(), _askTimeout, http.RequestAborted),
            _options.Mode));
    }

    /// <summary>
    /// Server-Sent Events until the client goes away or the server stops: <c>hello</c> at once, then what <see cref="EventFeed"/>
    /// sends. Written and flushed event by event (no response buffering); Kestrel's request body limits do not apply to a GET,
    /// but its minimum response data rate (set in StartAsync: 240 bytes/s after a 5 s grace) does: a client that stops reading is
    /// cut off.
    /// A comment line every 15 s of quiet keeps proxies from closing it. At most <see cref="MaxEventClients"/> at once.
    /// </summary>
    private async Task<IResult> Events(HttpContext http, IActorRef manager)
    {
        Only(http);
        if (Interlocked.Increment(ref _eventClients) > MaxEventClients)
        {
            Interlocked.Decrement(ref _eventClients);
            return Json(503, new ApiError($"{MaxEventClients} event streams are open already; close one (another tab?) and retry"));
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _stopping.Token);
        var events = _feed.Subscribe(out var unsubscribe);
        try
        {
            http.Features.GetRequiredFeature<IHttpResponseBodyFeature>().DisableBuffering();
            http.Response.StatusCode = 200;
            http.Response.ContentType = "text/event-stream; charset=utf-8";
            http.Response.Headers.CacheControl = "no-cache";
            await http.Response.StartAsync(stop.Token);   // the headers now; hello follows the feed's next poll
            await foreach (var text in events.ReadAllAsync(stop.Token))
            {
                await http.Response.WriteAsync(text, stop.Token);
                await http.Response.Body.FlushAsync(stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // the client left, or the server is stopping
        }
        finally
        {
            unsubscribe();
            Interlocked.Decrement(ref _eventClients);
        }
        return Results.Empty;
    }

    /// <summary>json: the report itself (the store's rows); csv: the same grid `reccluster leaderboard --format csv` prints.</summary>
    private static IResult Report(LeaderboardReport report, string format) => format == "csv"
        ? Results.Content(report.Grid().ToString("csv"), "text/csv; charset=utf-8", Encoding.UTF8, 200)
        : Json(200, report);

    /// <summary>Runs a handler with the manager; failures become answers: bad parameters 400, unknown sweeps 404, no answer 504.</summary>
    private RequestDelegate Guard(Func<HttpContext, IActorRef, Task<IResult>> handler) => async http =>
    {
        IResult result;
        try
        {
            result = _manager is { } manager ? await handler(http, manager) : Json(503, new ApiError("the coordinator is not up yet"));
        }
        catch (LeaderboardQueryException e) when (e.Problem is LeaderboardProblem.BadParameter)
        {
            result = Json(400, new ApiError($"{e.Parameter}: {e.Message}", Parameter: e.Parameter));
        }
        catch (LeaderboardQueryException e)
        {
            result = Json(404, new ApiError(e.Message));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            result = TooLarge();
        }
        catch (AskTimeoutException)
        {
            result = Json(504, new ApiError("the sweep manager did not answer in time"));
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested || http.Response.HasStarted)
        {
            return;   // the client went away
        }
        catch (Exception e)
        {
            _log?.WriteLine($"http: {http.Request.Method} {http.Request.Path} failed: {e}");
            result = Json(500, new ApiError($"internal error ({e.GetType().Name}): {e.Message.Split('\n')[0]}"));
        }
        await result.ExecuteAsync(http);
    };

    private static IResult ReadOnly() =>
        Json(405, new ApiError("this server is a read-only dashboard: it cannot submit or cancel sweeps"));

    /// <summary>401 for an /api request without the token, before any endpoint (or the body) is read.</summary>
    private static Func<HttpContext, RequestDelegate, Task> RequireToken(ApiToken token) => async (http, next) =>
    {
        if (!http.Request.Path.StartsWithSegments(ApiPrefix, StringComparison.OrdinalIgnoreCase)
            || token.Accepts(http.Request.Headers.Authorization.FirstOrDefault()))
        {
            await next(http);
            return;
        }
        http.Response.Headers.WWWAuthenticate = "Bearer";
        await Json(401, new ApiError("this API needs its token: Authorization: Bearer <token>")).ExecuteAsync(http);
    };

    /// <summary>421 for a request whose Host is not a loopback name, before anything else: see <see cref="StartAsync"/>.</summary>
    private static async Task RequireLoopbackHost(HttpContext http, RequestDelegate next)
    {
        var host = http.Request.Host;
        if (host.HasValue && LoopbackHosts.Contains(host.Host, StringComparer.OrdinalIgnoreCase))
        {
            await next(http);
            return;
        }
        await Json(StatusCodes.Status421MisdirectedRequest, new ApiError($"this server answers to 127.0.0.1, localhost or [::1] only, " +
            $"not '{host.Value}' (without a token it refuses other host names, which a web page could point at it)")).ExecuteAsync(http);
    }

    private static bool IsSweepMediaType(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var type)
        && SweepMediaTypes.Contains(type.MediaType.Value, StringComparer.OrdinalIgnoreCase);

    private static IResult TooLarge() => Json(413, new ApiError($"the request body is larger than {MaxBodyBytes} bytes"));

    private static IResult Json(int status, object value) =>
        Results.Content(JsonSerializer.Serialize(value, value.GetType(), ApiJson.Options), "application/json; charset=utf-8", Encoding.UTF8,
            status);

    private static string Id(HttpContext http) => (string)http.Request.RouteValues["id"]!;

    /// <summary>A misspelt query parameter is an error, not silently the default.</summary>
    private static void Only(HttpContext http, params string[] allowed)
    {
        foreach (var key in http.Request.Query.Keys)
            if (!allowed.Contains(key))
                throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, key,
                    allowed.Length == 0 ? "this endpoint takes no query parameters"
                        : $"unknown parameter; expected {string.Join(", ", allowed)}");
    }

    private static string? Text(HttpContext http, string name) => http.Request.Query[name] switch
    {
        [] => null,
        [{ } one] => one,
        _ => throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, name, "given more than once"),
    };

    private static int? Number(HttpContext http, string name) => Text(http, name) switch
    {
        null => null,
        var text when int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
        var text => throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, name, $"'{text}' is not a whole number"),
    };

    private static string Format(HttpContext http) => Text(http, "format") switch
    {
        null => "json",
        var f when LeaderboardGrid.Formats.Contains(f) => f,
        var f => throw new LeaderboardQueryException(LeaderboardProblem.BadParameter, "format", $"'{f}' is not json or csv"),
    };

    private sealed class NoSignals : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>How an API server behaves besides its endpoint.</summary>
/// <param name="ReadOnly">Submitting and cancelling are refused (405): the dashboard over a state folder.</param>
/// <param name="Mode">What serves it, shown by <c>/api/cluster</c> and the cluster page.</param>
/// <param name="EventInterval">How often the event feed polls for changes while a client listens (default 1 s).</param>
public sealed record ApiOptions(bool ReadOnly = false, ServerMode Mode = ServerMode.Cluster, TimeSpan EventInterval = default)
{
    public TimeSpan EventInterval { get; init; } = EventInterval == default ? TimeSpan.FromSeconds(1) : EventInterval;
}
