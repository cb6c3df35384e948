namespace RecCluster.Cluster.Nodes;

/// <summary>
/// The membership monitor's own messages. It is fed by Akka's cluster events; the SweepManager and worker registration
/// will add a query here for <c>GET /api/cluster</c>.
/// </summary>
internal sealed record CoordinatorsLostTimeout
{
    public static readonly CoordinatorsLostTimeout Instance = new();
}
