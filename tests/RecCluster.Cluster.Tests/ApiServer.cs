using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Security;

namespace RecCluster.Cluster.Tests;

/// <summary>
/// The coordinator's HTTP API on 127.0.0.1 (a free port) over a real sweep manager, leaderboard and worker agent whose trials
/// are simulated: trial i scores 0.01 × epoch × (i + 1) on ndcg@10 over 3 epochs, or hangs at epoch 2 when <c>hang</c> says so.
/// </summary>
public sealed class ApiServer : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>The API's bearer token; <see cref="Http"/> sends it.</summary>
    public const string Token = "test-token-0123456789abcdef";

    private ApiServer(CoordinatorApi api, IActorRef manager, IActorRef leaderboard, SimulatedTrialLauncher launcher)
    {
        (Api, Manager, Leaderboard, Launcher) = (api, manager, leaderboard, launcher);
        Http = new HttpClient { BaseAddress = api.Address, Timeout = TimeSpan.FromSeconds(30) };
        Http.DefaultRequestHeaders.Authorization = new("Bearer", Token);
    }

    public CoordinatorApi Api { get; }
    public IActorRef Manager { get; }
    public IActorRef Leaderboard { get; }
    public SimulatedTrialLauncher Launcher { get; }
    public HttpClient Http { get; }
    public string Url => Api.Address.ToString().TrimEnd('/');

    public static async Task<ApiServer> StartAsync(ActorSystem system, string state, int slots = 2, Func<AttemptId, bool>? hang = null,
        DataRoots? roots = null)
    {
        var leaderboard = system.ActorOf(LeaderboardActor.Props(new LeaderboardSettings(state)));
        var manager = system.ActorOf(SweepManager.Props(leaderboard));
        var launcher = new SimulatedTrialLauncher(system.Scheduler, TimeSpan.FromMilliseconds(2),
            run => new SimulatedTrial("ndcg@10", e => 0.01 * e * (run.Id.Index + 1), 3, HangAtEpoch: hang?.Invoke(run.Id) == true ? 2 : null));
        system.ActorOf(WorkerAgent.Props(manager, WorkerAgent.PlanSlots(slots, 0, 0), launcher, TimeSpan.FromSeconds(30)));
        var api = await CoordinatorApi.StartAsync(new IPEndPoint(IPAddress.Loopback, 0), manager,
            token: ApiToken.Parse(Token, "test"), dataRoots: roots);
        return new ApiServer(api, manager, leaderboard, launcher);
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body)> Send(HttpMethod method, string path, HttpContent? content = null)
    {
        using var response = await Http.SendAsync(new HttpRequestMessage(method, path) { Content = content });
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    public Task<(HttpStatusCode Status, JsonNode? Body)> Get(string path) => Send(HttpMethod.Get, path);

    public async Task<string> Submit(string yaml, string path)
    {
        var (status, body) = await Send(HttpMethod.Post, $"/api/sweeps?path={Uri.EscapeDataString(path)}", new StringContent(yaml, Encoding.UTF8, "application/yaml"));
        Assert.True(status == HttpStatusCode.Created, $"{status}: {body}");
        return (string)body!["sweep_id"]!;
    }

    /// <summary>Polls the sweep's status until <paramref name="done"/> holds, or fails after <see cref="Patience"/>.</summary>
    public async Task<JsonNode> Until(string id, Func<JsonNode, bool> done)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var (status, body) = await Get($"/api/sweeps/{id}");
            Assert.Equal(HttpStatusCode.OK, status);
            if (done(body!)) return body!;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"sweep {id} is still {body}");
            await Task.Delay(50);
        }
    }

    public Task<JsonNode> Ended(string id) => Until(id, s => (string)s["state"]! is "finished" or "cancelled");

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Api.DisposeAsync();
    }
}
