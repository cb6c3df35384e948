using Akka.Actor;

namespace RecCluster.Cluster.Nodes;

/// <summary>SIGTERM or Ctrl+C: leave the cluster and exit 0.</summary>
public sealed class NodeStopRequested : CoordinatedShutdown.Reason
{
    public static readonly NodeStopRequested Instance = new();
    private NodeStopRequested() { }
    public override int ExitCode => 0;
}

/// <summary>A worker lost every coordinator: leave this cluster and join again through the seeds.</summary>
public sealed class CoordinatorsLost : CoordinatedShutdown.Reason
{
    public static readonly CoordinatorsLost Instance = new();
    private CoordinatorsLost() { }
    // Not the process's: the node starts a new actor system instead of exiting.
    public override int ExitCode => 0;
}
