namespace RecCluster.Cluster.Nodes;

/// <summary>The two kinds of cluster member; their cluster role names are <see cref="NodeRoles.Name"/>.</summary>
public enum NodeRole
{
    Coordinator,
    Worker,
}

public static class NodeRoles
{
    public const string CoordinatorName = "coordinator";
    public const string WorkerName = "worker";

    public static string Name(this NodeRole role) => role switch
    {
        NodeRole.Coordinator => CoordinatorName,
        NodeRole.Worker => WorkerName,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };
}
