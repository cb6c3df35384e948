using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace RecCluster.Nodes.Tests;

/// <summary>
/// A coordinator (with its HTTP API) and workers as real processes on 127.0.0.1 with cluster-config/test.conf, sharing one
/// checkpoint storage folder, driven through the API as a user would. Disposing kills every process it started.
/// </summary>
internal sealed class SweepCluster : IDisposable
{
    public static readonly TimeSpan SweepPatience = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    private readonly string _folder = Directory.CreateTempSubdirectory("reccluster-sweeps-").FullName;
    private readonly List<NodeProcess> _nodes = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private int _akkaPort, _httpPort;

    /// <summary>More flags for the coordinator (TLS, say).</summary>
    public IReadOnlyList<string> CoordinatorArgs { get; init; } = [];

    /// <summary>The API token the coordinator is given (in RECCLUSTER_TOKEN) and every request sends; null: none.</summary>
    public string? Token
    {
        get => _token;
        init
        {
            _token = value;
            _http.DefaultRequestHeaders.Authorization = value is null ? null : new("Bearer", value);
        }
    }

    private readonly string? _token;

    public NodeProcess Coordinator { get; private set; } = null!;
    public string Seed { get; private set; } = "";
    public Uri Api { get; private set; } = null!;
    public string Folder => _folder;

    /// <summary>Starts the coordinator: on free ports the first time, on the same ports and state when started again.</summary>
    public void StartCoordinator()
    {
        Coordinator = Start("coordinator", ["coordinator", "--state", Path.Combine(_folder, "state"), "--port", $"{_akkaPort}",
            "--http", $"127.0.0.1:{_httpPort}", .. CoordinatorArgs],
            Token is null ? null : new Dictionary<string, string> { ["RECCLUSTER_TOKEN"] = Token });
        var line = Coordinator.WaitForLog("HTTP API at ");
        Api = new Uri(line[(line.IndexOf("HTTP API at ", StringComparison.Ordinal) + "HTTP API at ".Length)..].Trim());
        Seed = (string)Coordinator.WaitFor("up", e => (string?)e["event"] == "up")["address"]!;
        (_akkaPort, _httpPort) = (int.Parse(Seed[(Seed.LastIndexOf(':') + 1)..]), Api.Port);
    }

    /// <summary>A worker with one slot (and <paramref name="extra"/> flags); returns it once it is Up.</summary>
    public (NodeProcess Node, string Address) StartWorker(string name, params string[] extra)
    {
        var node = StartWorkerProcess(name, extra);
        return (node, (string)node.WaitFor("up", e => (string?)e["event"] == "up")["address"]!);
    }

    /// <summary>A worker process with these extra flags, not waited for.</summary>
    public NodeProcess StartWorkerProcess(string name, string[] extra) =>
        Start(name, ["worker", "--seeds", Seed, "--slots", "1", "--storage", Path.Combine(_folder, "storage"), .. extra]);

    private NodeProcess Start(string name, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var node = NodeProcess.Start(name, [.. args, "--host", "127.0.0.1", "--config", NodeProcess.TestConfig], environment);
        _nodes.Add(node);
        return node;
    }

    public string Submit(string yaml)
    {
        using var response = _http.PostAsync(new Uri(Api, "/api/sweeps"), new StringContent(yaml, Encoding.UTF8, "application/yaml")).Result;
        var body = response.Content.ReadAsStringAsync().Result;
        Assert.True(response.IsSuccessStatusCode, body);
        return (string)JsonNode.Parse(body)!["sweep_id"]!;
    }

    public JsonNode Get(string path)
    {
        using var response = _http.GetAsync(new Uri(Api, path)).Result;
        var body = response.Content.ReadAsStringAsync().Result;
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    public JsonObject Sweep(string id) => Get($"/api/sweeps/{id}").AsObject();

    /// <summary>Every finished trial of the sweep (the leaderboard's rows), by trial number.</summary>
    public Dictionary<int, FinishedTrial> Finished(string id) =>
        Get($"/api/sweeps/{id}/leaderboard?top=1000").AsObject()["rows"]!.AsArray().Select(r => r!.AsObject()).ToDictionary(
            r => (int)r["trial"]!["index"]!,
            r => new FinishedTrial((int)r["trial"]!["attempts"]!, (string)r["trial"]!["node"]!, (int)r["trial"]!["best_epoch"]!,
                (double)r["test"]!["ndcg@10"]!));

    /// <summary>Every trial the store holds, running ones included, by number.</summary>
    public Dictionary<int, StoredTrial> Trials(string id) =>
        Get($"/api/sweeps/{id}/trials").AsObject()["trials"]!.AsArray().Select(t => t!.AsObject()).ToDictionary(
            t => (int)t["index"]!,
            t => new StoredTrial((string)t["status"]!, (int)t["attempts"]!, (string?)t["node"], (string?)t["started"]));

    /// <summary>Every recorded epoch of one trial: (attempt, epoch, node).</summary>
    public List<(int Attempt, int Epoch, string? Node)> History(string id, int trial)
    {
        using var response = _http.GetAsync(new Uri(Api, $"/api/sweeps/{id}/trials/{trial}")).Result;
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return [];   // no epoch recorded yet
        var body = response.Content.ReadAsStringAsync().Result;
        Assert.True(response.IsSuccessStatusCode, body);
        return [.. JsonNode.Parse(body)!.AsObject()["epochs"]!.AsArray().Select(e => ((int)e!["attempt"]!, (int)e["epoch"]!, (string?)e["node"]))];
    }

    /// <summary>Polls until <paramref name="condition"/> holds; the sweep must not end first.</summary>
    public T WaitUntil<T>(string what, Func<T?> condition, TimeSpan? patience = null) where T : class
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (patience ?? SweepPatience))
        {
            if (condition() is { } value) return value;
            Thread.Sleep(Poll);   // polling a remote API: nothing to wait on but time
        }
        throw new TimeoutException($"no {what} within {(patience ?? SweepPatience).TotalSeconds} s\n{Describe()}");
    }

    public JsonObject WaitForEnd(string id) =>
        WaitUntil($"end of sweep {id}", () => Sweep(id) is { } s && (string?)s["state"] is "finished" or "cancelled" ? s : null);

    private string Describe() => string.Join("\n", _nodes.Select(n => n.ToString()));

    public void Dispose()
    {
        _http.Dispose();
        foreach (var node in _nodes) node.Dispose();
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { /* a killed trial may still be closing a checkpoint file */ }
    }

    /// <summary>A sweep of SASRec on tiny synthetic data: a 2 x 2 grid of trials that train for several seconds each.</summary>
    public static string TinySweep(string name, int epochs = 14, string grid = "hidden_size: [8, 16]\n    learning_rate: [0.003, 0.01]") => $"""
        name: {name}
        data:
          synthetic: {"{"}users: 600, items: 60, clusters: 4, min_length: 8, max_length: 20, seed: 5{"}"}
        evaluation: {"{"}protocol: full, cutoffs: [10], metrics: [hr, ndcg]{"}"}
        objective: {"{"}metric: ndcg@10, mode: max{"}"}
        models:
          sasrec:
            {grid}
            inner_size: 16
            max_seq_length: 20
            batch_size: 32
            n_epochs: {epochs}
            device: cpu
        search: {"{"}algorithm: grid{"}"}
        scheduler: fifo
        resources: {"{"}cpus_per_trial: 1{"}"}
        max_failures: 2
        """;
}

internal sealed record FinishedTrial(int Attempts, string Node, int BestEpoch, double TestNdcg);

internal sealed record StoredTrial(string Status, int Attempts, string? Node, string? Started);
