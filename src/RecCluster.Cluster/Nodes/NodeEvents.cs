using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Akka.Actor;
using Akka.Cluster;

namespace RecCluster.Cluster.Nodes;

/// <summary>
/// A line of the node's machine-readable log: one JSON object per line on stdout, for scripts and tests
/// (<c>GET /api/cluster</c> will serve the same view later). Human-readable logs go to stderr.
/// </summary>
public abstract record NodeEvent
{
    public abstract JsonObject ToJson();
}

/// <summary>This node became Up in its cluster (again, after a rejoin). Coordinators have no slots or GPUs.</summary>
public sealed record NodeUp(Address Address, NodeRole Role, int Slots, int Gpus) : NodeEvent
{
    public override JsonObject ToJson()
    {
        var json = new JsonObject { ["event"] = "up", ["address"] = Address.ToString(), ["role"] = Role.Name() };
        if (Role == NodeRole.Worker) (json["slots"], json["gpus"]) = (Slots, Gpus);
        return json;
    }
}

public enum MemberChange
{
    Up,
    Unreachable,
    Reachable,
    Removed,
}

/// <summary>Another member (or this one) changed as this node sees it.</summary>
/// <param name="PreviousStatus">For <see cref="MemberChange.Removed"/>: Exiting after a graceful leave, Down when downed.</param>
public sealed record MemberChanged(
    MemberChange Change, Address Address, ImmutableSortedSet<string> Roles, MemberStatus? PreviousStatus = null) : NodeEvent
{
    public override JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["event"] = Change switch
            {
                MemberChange.Up => "member-up",
                MemberChange.Unreachable => "member-unreachable",
                MemberChange.Reachable => "member-reachable",
                MemberChange.Removed => "member-removed",
                _ => throw new ArgumentOutOfRangeException(nameof(Change), Change, null),
            },
            ["address"] = Address.ToString(),
            ["roles"] = new JsonArray(Roles.Select(r => (JsonNode)r).ToArray()),
        };
        if (PreviousStatus is { } previous) json["previous"] = previous.ToString().ToLowerInvariant();
        return json;
    }
}

/// <summary>A worker saw no reachable coordinator for <c>rejoin-after</c> and leaves to join again through its seeds.</summary>
public sealed record Rejoining(Address Address) : NodeEvent
{
    public override JsonObject ToJson() => new() { ["event"] = "rejoining", ["address"] = Address.ToString() };
}

/// <summary>Why a node process ends; the CLI maps it to an exit code.</summary>
public enum NodeOutcome
{
    /// <summary>SIGTERM or Ctrl+C: the node left the cluster.</summary>
    Stopped,
    /// <summary>Another member told this one to leave.</summary>
    Left,
    /// <summary>The split-brain resolver (or an operator) downed this node.</summary>
    Downed,
    /// <summary>The actor system ended for another reason (e.g. an unsuccessful join).</summary>
    Failed,
    /// <summary>A TLS handshake with a peer failed: its certificate or this node's was not accepted.</summary>
    TlsRefused,
}

/// <summary>The node is about to exit.</summary>
public sealed record NodeStopped(Address Address, NodeOutcome Outcome) : NodeEvent
{
    public override JsonObject ToJson() =>
        new() { ["event"] = "stopped", ["address"] = Address.ToString(), ["reason"] = Outcome switch
        {
            NodeOutcome.TlsRefused => "tls-refused",
            var other => other.ToString().ToLowerInvariant(),
        } };
}

/// <summary>Writes events as JSON lines, whole lines even when several threads write.</summary>
public sealed class NodeEventWriter(TextWriter output)
{
    private readonly Lock _gate = new();

    public void Write(NodeEvent e)
    {
        var line = e.ToJson().ToJsonString();
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
