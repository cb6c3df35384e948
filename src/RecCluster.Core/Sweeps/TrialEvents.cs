using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using RecCluster.Core.Config;

namespace RecCluster.Core.Sweeps;

/// <summary>What a running trial reports, one JSON object per line on its stdout ("type" says which).</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(TrialHeartbeat), "heartbeat")]
[JsonDerivedType(typeof(TrialEpoch), "epoch")]
[JsonDerivedType(typeof(TrialFinished), "finished")]
[JsonDerivedType(typeof(TrialError), "error")]
public abstract record TrialEvent;

/// <summary>Sent while an epoch is in progress, so a silent (hung) trial can be told from a slow one.</summary>
public sealed record TrialHeartbeat : TrialEvent;

/// <summary>An epoch finished; <see cref="Valid"/> is set on evaluation epochs (every eval_step).</summary>
public sealed record TrialEpoch(int Epoch, double Loss, IReadOnlyDictionary<string, double>? Valid) : TrialEvent;

/// <summary>The trial ended normally (completed, early_stopped, or stopped on request) with metrics at its best epoch.</summary>
public sealed record TrialFinished(string Status, string Device, int BestEpoch, int EpochsRun,
    IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test, double Seconds) : TrialEvent;

public sealed record TrialError(string Message) : TrialEvent;

/// <summary>
/// Everything a trial process needs: the sweep's submitted text, the model, its hyperparameter values, and the
/// data files with the hashes recorded at submission.
/// </summary>
public sealed record TrialSpec(SweepSource Sweep, string Model, IReadOnlyDictionary<string, ParamValue> Params, int Threads,
    IReadOnlyList<DataFile> Data);

/// <summary>JSON-lines encoding of trial events and specs, shared by the trial process and the worker.</summary>
public static class TrialCodec
{
    /// <summary>
    /// snake_case names; a missing or null required member is an error, not a default (a truncated line is no event).
    /// NaN metrics are written as "NaN".
    /// </summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    public static string Encode(TrialEvent e) => JsonSerializer.Serialize(e, Json);

    /// <summary>Parses one line; anything that is not a trial event (e.g. a stray library message) gives null.</summary>
    public static TrialEvent? Decode(string line)
    {
        if (!line.StartsWith('{')) return null;
        try
        {
            return JsonSerializer.Deserialize<TrialEvent>(line, Json);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            return null;
        }
    }

    public static string EncodeSpec(TrialSpec spec) =>
        JsonSerializer.Serialize(spec, new JsonSerializerOptions(Json) { WriteIndented = true });

    public static TrialSpec DecodeSpec(string json) => JsonSerializer.Deserialize<TrialSpec>(json, Json)!;

    public static JsonObject Params(IReadOnlyDictionary<string, ParamValue> values) =>
        new(values.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, JsonSerializer.SerializeToNode(kv.Value, Json))));

    /// <summary>
    /// Reads stored hyperparameter values back with the kinds their specifications expect (rows written before
    /// floats kept their fraction hold 1 for 1.0).
    /// </summary>
    public static Dictionary<string, ParamValue> ParseParams(string model, JsonObject values)
    {
        var specs = ModelCatalog.ParamsOf(model).ToDictionary(s => s.Name);
        var result = new Dictionary<string, ParamValue>(StringComparer.Ordinal);
        foreach (var (name, node) in values)
        {
            if (!specs.TryGetValue(name, out var spec)) throw new FormatException($"unknown hyperparameter '{name}' for {model}");
            object raw = node.Deserialize<ParamValue>(Json) switch
            {
                ParamValue.Int i => i.Value,
                ParamValue.Float f => f.Value,
                ParamValue.Bool b => b.Value,
                ParamValue.Text t => t.Value,
                _ => throw new FormatException($"'{name}' has no value"),
            };
            if (spec.TryNormalize(raw, out var normalized) is { } problem) throw new FormatException(problem);
            result[name] = normalized;
        }
        return result;
    }

    public static JsonObject Metrics(IReadOnlyDictionary<string, double> metrics) =>
        new(metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 6))));
}
