using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RecCluster.Core.Config;

/// <summary>
/// A hyperparameter value, closed over the four kinds a YAML scalar can hold (the private constructor keeps
/// the hierarchy to the nested cases). Literals convert implicitly; explicit casts read a value back and
/// throw <see cref="InvalidCastException"/> on the wrong kind, as unboxing did.
/// </summary>
[JsonConverter(typeof(ParamValueJsonConverter))]
public abstract record ParamValue
{
    private ParamValue() { }

    public sealed record Int(long Value) : ParamValue;

    public sealed record Float(double Value) : ParamValue;

    public sealed record Bool(bool Value) : ParamValue;

    public sealed record Text(string Value) : ParamValue;

    public static implicit operator ParamValue(long value) => new Int(value);
    public static implicit operator ParamValue(double value) => new Float(value);
    public static implicit operator ParamValue(bool value) => new Bool(value);
    public static implicit operator ParamValue(string value) => new Text(value);

    public static explicit operator long(ParamValue value) => value is Int i ? i.Value : throw Mismatch(value, "a whole number");

    /// <summary>Whole numbers widen, as a float hyperparameter written "1" means 1.0.</summary>
    public static explicit operator double(ParamValue value) => value switch
    {
        Float f => f.Value,
        Int i => i.Value,
        _ => throw Mismatch(value, "a number"),
    };

    public static explicit operator bool(ParamValue value) => value is Bool b ? b.Value : throw Mismatch(value, "true or false");
    public static explicit operator string(ParamValue value) => value is Text t ? t.Value : throw Mismatch(value, "text");

    /// <summary>The value as a user writes it (invariant culture), for tables and grouping.</summary>
    public sealed override string ToString() => this switch
    {
        Int i => i.Value.ToString(CultureInfo.InvariantCulture),
        Float f => f.Value.ToString(CultureInfo.InvariantCulture),
        Bool b => b.Value ? "true" : "false",
        Text t => t.Value,
        _ => throw new InvalidOperationException(),
    };

    private static InvalidCastException Mismatch(ParamValue value, string wanted) => new($"expected {wanted}, got {value}");
}

/// <summary>
/// JSON for a <see cref="ParamValue"/>: a float always has a fraction or exponent ("1.0"), so the kind survives
/// a round trip without the model's parameter specification.
/// </summary>
public sealed class ParamValueJsonConverter : JsonConverter<ParamValue>
{
    public override ParamValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString()!,
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Number when reader.ValueSpan.IndexOfAny(".eE"u8) < 0 => reader.GetInt64(),
        JsonTokenType.Number => reader.GetDouble(),
        var other => throw new JsonException($"a hyperparameter value cannot be {other}"),
    };

    public override void Write(Utf8JsonWriter writer, ParamValue value, JsonSerializerOptions options)
    {
        switch (value)
        {
            case ParamValue.Int i: writer.WriteNumberValue(i.Value); break;
            case ParamValue.Float f:
                var text = f.Value.ToString("R", CultureInfo.InvariantCulture);
                writer.WriteRawValue(text.AsSpan().IndexOfAny(".E") < 0 ? text + ".0" : text);
                break;
            case ParamValue.Bool b: writer.WriteBooleanValue(b.Value); break;
            case ParamValue.Text t: writer.WriteStringValue(t.Value); break;
        }
    }
}
