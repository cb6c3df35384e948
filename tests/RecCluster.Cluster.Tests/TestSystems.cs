using Akka.Configuration;

namespace RecCluster.Cluster.Tests;

public static class TestSystems
{
    /// <summary>
    /// Every Cluster test's actor system: each message goes through the protocol serializer and is delivered as
    /// the copy read back, as if it crossed nodes. Props carry local objects (the store, launchers) and never do.
    /// </summary>
    public static readonly Config SerializeMessages = ConfigurationFactory.ParseString("""
        akka.actor.serialize-messages = on
        akka.actor.serialize-creators = off
        """).WithFallback(ClusterConfigs.Serialization);
}
