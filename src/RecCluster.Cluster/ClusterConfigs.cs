using Akka.Configuration;

namespace RecCluster.Cluster;

/// <summary>The HOCON under cluster-config/, embedded in this assembly so every process reads the same text.</summary>
public static class ClusterConfigs
{
    /// <summary>cluster-config/serialization.conf: the protocol serializer and its binding.</summary>
    public static readonly Config Serialization = Load("serialization.conf");

    private static Config Load(string name)
    {
        var assembly = typeof(ClusterConfigs).Assembly;
        using var stream = assembly.GetManifestResourceStream($"cluster-config/{name}")
            ?? throw new InvalidOperationException($"cluster-config/{name} is not embedded in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
