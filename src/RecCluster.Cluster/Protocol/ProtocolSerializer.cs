using System.Collections.Frozen;
using System.Runtime.Serialization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Akka.Actor;
using Akka.Serialization;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Protocol;

/// <summary>A message actors exchange that may cross nodes: <see cref="ProtocolSerializer"/> writes it.</summary>
public interface IProtocolMessage;

/// <summary>
/// JSON (the trial codec's options) with the message's type name as its string manifest, for every
/// <see cref="IProtocolMessage"/>; bound in cluster-config/serialization.conf. Unlike Akka's default JSON it
/// names no .NET types on the wire and round-trips read-only dictionaries. Actor references travel as
/// their serialized paths and are resolved by this node's provider.
/// </summary>
public sealed class ProtocolSerializer : SerializerWithStringManifest
{
    /// <summary>Every protocol message by manifest: the closed set this node can read.</summary>
    public static readonly FrozenDictionary<string, Type> Messages = typeof(IProtocolMessage).Assembly.GetTypes()
        .Where(t => t.IsAssignableTo(typeof(IProtocolMessage)) && t is { IsAbstract: false, IsInterface: false })
        .ToFrozenDictionary(t => t.Name);

    private readonly JsonSerializerOptions _json;

    public ProtocolSerializer(ExtendedActorSystem system) : base(system) =>
        _json = new JsonSerializerOptions(TrialCodec.Json) { Converters = { new ActorRefConverter(system) } };

    public override int Identifier => 7301;

    public override string Manifest(object o) => o.GetType().Name;

    public override byte[] ToBinary(object obj) => JsonSerializer.SerializeToUtf8Bytes(obj, obj.GetType(), _json);

    public override object FromBinary(byte[] bytes, string manifest) =>
        Messages.TryGetValue(manifest, out var type)
            ? JsonSerializer.Deserialize(bytes, type, _json) ?? throw new SerializationException($"empty {manifest}")
            // A SerializationException drops the one message instead of the connection (a newer node's message).
            : throw new SerializationException($"unknown protocol message '{manifest}'");

    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            system.Provider.ResolveActorRef(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Serialization.SerializedActorPath(value));
    }
}
