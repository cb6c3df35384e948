using System.Text.Json.Nodes;
using RecCluster.Nodes.Tests;

namespace RecCluster.Dashboard.Tests;

/// <summary>
/// A real cluster (a coordinator with its HTTP API and one worker with one slot, as processes on 127.0.0.1) running a real
/// sweep on tiny synthetic data, and Chromium to look at its dashboard. Started once for the test class; its API has a token.
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    /// <summary>
    /// A 2 x 2 grid (two widths, two seeds) under ASHA, trials one after another for several seconds each (so the first
    /// test finds the sweep running after its first epoch): the wide model comes first, so the narrow one's trials fall
    /// behind at a rung and are pruned.
    /// </summary>
    public static readonly string Sweep = $$"""
        name: dashboard
        data:
          synthetic: {users: 600, items: 60, clusters: 4, min_length: 8, max_length: 20, seed: 5}
        evaluation: {protocol: full, cutoffs: [10], metrics: [hr, ndcg]}
        objective: {metric: ndcg@10, mode: max}
        models:
          sasrec:
            hidden_size: [16, 8]
            sample_seed: [1, 2]
            inner_size: 16
            max_seq_length: 20
            batch_size: 32
            n_epochs: {{Epochs}}
            early_stopping_step: 0
            device: cpu
        search: {algorithm: grid}
        scheduler:
          asha:
            grace_period: 4
            reduction_factor: 2
            max_t: {{Epochs}}
        resources: {cpus_per_trial: 1}
        """;

    /// <summary>Epochs of a trial ASHA does not prune.</summary>
    public const int Epochs = 32;

    /// <summary>The coordinator's API token: the pages get it from their address (#token=...), as a user may give it.</summary>
    public const string Token = "dashboard-test-token-0123456789";

    internal SweepCluster Cluster { get; } = new() { Token = Token };
    internal Browser Browser { get; private set; } = null!;
    public string SweepId { get; private set; } = "";
    public Uri Url => Cluster.Api;

    public async Task InitializeAsync()
    {
        var browser = Browser.StartAsync();   // Chromium starts while the cluster does
        Cluster.StartCoordinator();
        Cluster.StartWorker("worker");
        SweepId = Cluster.Submit(Sweep);
        Browser = await browser;
    }

    public JsonNode Get(string path) => Cluster.Get(path);

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Cluster.Dispose();
    }

    /// <summary>The variable naming a folder the screenshots are also copied to (docs/screenshots to refresh the docs' ones).</summary>
    public const string ScreenshotsVariable = "RECCLUSTER_SCREENSHOTS";

    /// <summary>Where the screenshots are written: the test's output folder, never the working tree.</summary>
    public static string Screenshots => Path.Combine(AppContext.BaseDirectory, "screenshots");

    /// <summary>Copies a screenshot to the folder in <see cref="ScreenshotsVariable"/>, if set.</summary>
    public static void Publish(string path)
    {
        if (Environment.GetEnvironmentVariable(ScreenshotsVariable) is not { Length: > 0 } folder) return;
        Directory.CreateDirectory(folder);
        File.Copy(path, Path.Combine(folder, Path.GetFileName(path)), overwrite: true);
    }
}
