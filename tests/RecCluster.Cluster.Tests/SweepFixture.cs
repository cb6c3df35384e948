using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

/// <summary>A scratch folder with a sweep file and a state folder.</summary>
public sealed class SweepFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("reccluster-sweep-").FullName;
    public string State => Path.Combine(Folder, "state");

    public SweepConfig Load(string yaml, string name = "sweep.yaml")
    {
        var path = Path.Combine(Folder, name);
        File.WriteAllText(path, yaml);
        return ExperimentLoader.LoadSweep(path);
    }

    public void Dispose() => Directory.Delete(Folder, true);

    /// <summary>A sweep over learning_rate x hidden_size on tiny synthetic data (simulated trials ignore the data).</summary>
    public static string Grid(int epochs, string extra = "", string scheduler = "fifo") => $"""
        name: t
        data: {"{"}synthetic: {"{"}users: 60, items: 30, clusters: 3, min_length: 5, max_length: 10{"}"}{"}"}
        evaluation: {"{"}cutoffs: [10], metrics: [ndcg]{"}"}
        objective: {"{"}metric: ndcg@10, mode: max{"}"}
        models:
          sasrec:
            learning_rate: [0.001, 0.002, 0.003]
            hidden_size: [16, 32, 64]
            n_epochs: {epochs}
        scheduler: {scheduler}
        {extra}
        """;
}
