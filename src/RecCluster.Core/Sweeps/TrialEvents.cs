using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RecCluster.Core.Config;

namespace RecCluster.Core.Sweeps;

/// <summary>What a running trial reports, one JSON object per line on its stdout.</summary>
public abstract record TrialEvent;

/// <summary>Sent while an epoch is in progress, so a silent (hung) trial can be told from a slow one.</summary>
public sealed record TrialHeartbeat : TrialEvent;

/// <summary>An epoch finished; <see cref="Valid"/> is set on evaluation epochs (every eval_step).</summary>
public sealed record TrialEpoch(int Epoch, double Loss, IReadOnlyDictionary<string, double>? Valid) : TrialEvent;

/// <summary>The trial ended normally (completed, early_stopped, or stopped on request) with metrics at its best epoch.</summary>
public sealed record TrialFinished(string Status, string Device, int BestEpoch, int EpochsRun,
    IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test, double Seconds) : TrialEvent;

public sealed record TrialError(string Message) : TrialEvent;

/// <summary>Everything a trial process needs: the sweep file, the model and its hyperparameter values.</summary>
public sealed record TrialSpec(string ConfigPath, string Model, IReadOnlyDictionary<string, object> Params, int Threads);

/// <summary>JSON-lines encoding of trial events and specs, shared by the trial process and the worker.</summary>
public static class TrialCodec
{
    public static string Encode(TrialEvent e) => (e switch
    {
        TrialHeartbeat => new JsonObject { ["type"] = "heartbeat" },
        TrialEpoch x => new JsonObject { ["type"] = "epoch", ["epoch"] = x.Epoch, ["loss"] = x.Loss, ["valid"] = x.Valid is null ? null : Metrics(x.Valid) },
        TrialFinished x => new JsonObject
        {
            ["type"] = "finished", ["status"] = x.Status, ["device"] = x.Device, ["best_epoch"] = x.BestEpoch, ["epochs_run"] = x.EpochsRun,
            ["valid"] = Metrics(x.Valid), ["test"] = Metrics(x.Test), ["seconds"] = x.Seconds,
        },
        TrialError x => new JsonObject { ["type"] = "error", ["message"] = x.Message },
        _ => throw new ArgumentOutOfRangeException(nameof(e)),
    }).ToJsonString();

    /// <summary>Parses one line; anything that is not a trial event (e.g. a stray library message) gives null.</summary>
    public static TrialEvent? Decode(string line)
    {
        if (!line.StartsWith('{')) return null;
        try
        {
            var o = JsonNode.Parse(line)!.AsObject();
            return (string?)o["type"] switch
            {
                "heartbeat" => new TrialHeartbeat(),
                "epoch" => new TrialEpoch((int)o["epoch"]!, (double)o["loss"]!, o["valid"] is JsonObject v ? Metrics(v) : null),
                "finished" => new TrialFinished((string)o["status"]!, (string)o["device"]!, (int)o["best_epoch"]!, (int)o["epochs_run"]!,
                    Metrics(o["valid"]!.AsObject()), Metrics(o["test"]!.AsObject()), (double)o["seconds"]!),
                "error" => new TrialError((string)o["message"]!),
                _ => null,
            };
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            return null;
        }
    }

    public static string EncodeSpec(TrialSpec spec) => new JsonObject
    {
        ["config"] = spec.ConfigPath, ["model"] = spec.Model, ["threads"] = spec.Threads, ["params"] = Params(spec.Params),
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    public static TrialSpec DecodeSpec(string json)
    {
        var o = JsonNode.Parse(json)!.AsObject();
        var model = (string)o["model"]!;
        return new TrialSpec((string)o["config"]!, model, ParseParams(model, o["params"]!.AsObject()), (int)o["threads"]!);
    }

    public static JsonObject Params(IReadOnlyDictionary<string, object> values) =>
        new(values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)(kv.Value switch
        {
            long l => JsonValue.Create(l),
            double d => JsonValue.Create(d),
            bool b => JsonValue.Create(b),
            string s => JsonValue.Create(s),
            var other => throw new ArgumentException($"unsupported hyperparameter value {other}"),
        }))));

    /// <summary>Reads hyperparameter values back with the types their specifications expect.</summary>
    public static Dictionary<string, object> ParseParams(string model, JsonObject values)
    {
        var specs = ModelCatalog.ParamsOf(model).ToDictionary(s => s.Name);
        var result = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (name, node) in values)
        {
            if (!specs.TryGetValue(name, out var spec)) throw new FormatException($"unknown hyperparameter '{name}' for {model}");
            var element = node!.GetValue<JsonElement>();
            object raw = element.ValueKind switch
            {
                JsonValueKind.String => element.GetString()!,
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.Number when element.TryGetInt64(out var l) && !element.GetRawText().Contains('.') && !element.GetRawText().Contains('e') => l,
                JsonValueKind.Number => element.GetDouble(),
                _ => throw new FormatException($"'{name}' has an unsupported value"),
            };
            if (spec.TryNormalize(raw, out var normalized) is { } problem) throw new FormatException(problem);
            result[name] = normalized;
        }
        return result;
    }

    public static JsonObject Metrics(IReadOnlyDictionary<string, double> metrics) =>
        new(metrics.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)Math.Round(kv.Value, 6))));

    private static Dictionary<string, double> Metrics(JsonObject o) =>
        o.ToDictionary(kv => kv.Key, kv => (double)kv.Value!, StringComparer.Ordinal);

    public static string Format(object value) => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
}
