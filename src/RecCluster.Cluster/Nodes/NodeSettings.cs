using Akka.Actor;

namespace RecCluster.Cluster.Nodes;

/// <summary>What one <c>reccluster node</c> process was asked to be, after flags and environment variables.</summary>
/// <param name="Host">Overrides the HOCON hostname and public-hostname when set.</param>
/// <param name="Port">Overrides the HOCON port when set; 0 picks a free port.</param>
/// <param name="Seeds">Empty: the seeds of the HOCON layers, or for a coordinator, itself.</param>
/// <param name="Directory">The coordinator's state folder or the worker's checkpoint storage.</param>
/// <param name="ConfigFile">User HOCON laid over the shipped files.</param>
/// <param name="Store">The coordinator's leaderboard store when it is not the SQLite file in <see cref="Directory"/>.</param>
/// <param name="DataRoots">Where submitted sweeps may read data (the coordinator's API checks sweeps, a worker its trials);
/// null: anywhere.</param>
/// <param name="Tls">Mutual TLS between nodes; null: plain TCP (trusted networks only).</param>
public sealed record NodeSettings(
    NodeRole Role,
    string? Host,
    int? Port,
    IReadOnlyList<Address> Seeds,
    int Slots,
    int Gpus,
    string Directory,
    string? ConfigFile,
    Leaderboard.StoreLocation? Store = null,
    Core.Security.DataRoots? DataRoots = null,
    NodeTls? Tls = null);
