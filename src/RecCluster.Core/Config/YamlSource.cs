using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace RecCluster.Core.Config;

/// <summary>
/// Reads a YAML document node by node while collecting every problem with its file, line and column,
/// so a user sees all mistakes at once rather than one per run.
/// </summary>
public sealed class YamlSource(string file)
{
    private readonly List<ConfigError> _errors = [];
    private readonly List<ConfigError> _warnings = [];

    public string File { get; } = file;
    public IReadOnlyList<ConfigError> Errors => _errors;

    /// <summary>Settings taken in but meaning nothing here (another tool's sections): said, never silently dropped.</summary>
    public IReadOnlyList<ConfigError> Warnings => _warnings;

    /// <summary>Parses YAML <paramref name="text"/>; problems are reported against <paramref name="file"/>.</summary>
    public static YamlSource Parse(string file, string text, out YamlNode? root)
    {
        var source = new YamlSource(file);
        root = null;
        using var reader = new StringReader(text);
        var scanner = new Scanner(reader);
        var parser = new CollectionTracker(new Parser(scanner));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
        }
        catch (YamlException e)
        {
            source.Error((int)e.Start.Line, (int)e.Start.Column, $"invalid YAML: {(e.InnerException ?? e).Message}");
            return source;
        }
        catch (Exception)
        {
            // YamlDotNet's scanner throws other exceptions than YamlException on some unclosed collections
            // (InvalidOperationException, even a bare Exception): still the user's text, so say where it breaks.
            source.Error(parser.Unclosed(scanner.CurrentPosition));
            return source;
        }
        if (stream.Documents.Count == 0) source.Error(1, 1, "the file is empty");
        else root = stream.Documents[0].RootNode;
        if (stream.Documents.Count > 1)
            source.Error(stream.Documents[1].RootNode, "a config file holds one YAML document; a second one ('---') starts here");
        return source;
    }

    private void Error((Mark At, string Message) problem) => Error((int)problem.At.Line, (int)problem.At.Column, problem.Message);

    public void Error(int line, int column, string message) => _errors.Add(new ConfigError(File, line, column, message));

    public void Error(YamlNode node, string message) => Error((int)node.Start.Line, (int)node.Start.Column, message);

    public void Warn(YamlNode node, string message) => _warnings.Add(new ConfigError(File, (int)node.Start.Line, (int)node.Start.Column, message));

    /// <summary>Reads a mapping, flagging keys not in <paramref name="allowed"/> with a "did you mean".</summary>
    public Dictionary<string, (YamlNode Key, YamlNode Value)>? Mapping(YamlNode node, string what, IReadOnlyCollection<string>? allowed)
    {
        if (node is not YamlMappingNode map)
        {
            Error(node, $"{what} must be a mapping of key: value");
            return null;
        }
        var result = new Dictionary<string, (YamlNode, YamlNode)>(StringComparer.Ordinal);
        foreach (var (key, value) in map.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (allowed is not null && !allowed.Contains(name))
            {
                Error(key, $"unknown key '{name}' in {what}; {Suggestions.DidYouMean(name, allowed)}");
                continue;
            }
            result[name] = (key, value);
        }
        return result;
    }

    /// <summary>A plain scalar as bool, long, double or string; quoted scalars are always strings.</summary>
    public static object? ScalarValue(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted) return text;
        if (text is "" or "~" or "null" or "Null" or "NULL") return null;
        if (text is "true" or "True" or "TRUE") return true;
        if (text is "false" or "False" or "FALSE") return false;
        if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
        return text;
    }

    public string? String(YamlNode node, string what)
    {
        if (node is YamlScalarNode s && ScalarValue(s) is { } v) return Convert.ToString(v, CultureInfo.InvariantCulture);
        Error(node, $"{what} must be a text value");
        return null;
    }

    public long? Integer(YamlNode node, string what, long min, long max)
    {
        var value = node is YamlScalarNode s ? ScalarValue(s) : null;
        if (value is long l && l >= min && l <= max) return l;
        // A whole number too large for a long reads as a double: still say what range is allowed.
        if (value is long || value is double d && double.IsInteger(d) && (d < min || d > max))
            Error(node, $"{what} must be between {min} and {max}, got {((YamlScalarNode)node).Value}");
        else Error(node, $"{what} must be a whole number");
        return null;
    }

    public double? Number(YamlNode node, string what, double min, double max)
    {
        if (node is YamlScalarNode s && ScalarValue(s) is long or double)
        {
            double v = Convert.ToDouble(ScalarValue(s), CultureInfo.InvariantCulture);
            if (v >= min && v <= max) return v;
            Error(node, $"{what} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, got {v.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        Error(node, $"{what} must be a number");
        return null;
    }

    public T? Choice<T>(YamlNode node, string what, IReadOnlyDictionary<string, T> choices) where T : struct
    {
        var text = String(node, what);
        if (text is null) return null;
        if (choices.TryGetValue(text.ToLowerInvariant(), out var value)) return value;
        Error(node, $"{what} '{text}' is not known; {Suggestions.DidYouMean(text, choices.Keys)}");
        return null;
    }

    public List<YamlNode>? Sequence(YamlNode node, string what)
    {
        if (node is YamlSequenceNode seq && seq.Children.Count > 0) return [.. seq.Children];
        Error(node, $"{what} must be a non-empty list, e.g. [5, 10, 20]");
        return null;
    }

    /// <summary>Follows the parser's collections so that a failure can point at a '[' or '{' left open.</summary>
    private sealed class CollectionTracker(IParser inner) : IParser
    {
        private readonly Stack<(bool Flow, char Opener, Mark Start)> _open = new();

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext()) return false;
            switch (inner.Current)
            {
                case SequenceStart s: _open.Push((s.Style == SequenceStyle.Flow, '[', s.Start)); break;
                case MappingStart m: _open.Push((m.Style == MappingStyle.Flow, '{', m.Start)); break;
                case SequenceEnd or MappingEnd: _open.Pop(); break;
            }
            return true;
        }

        public (Mark At, string Message) Unclosed(Mark stopped)
        {
            var innermost = _open.FirstOrDefault(c => c.Flow);
            return innermost.Opener == default
                ? (stopped, "invalid YAML: cannot read on from here; look for an unclosed quote or bracket above")
                : (innermost.Start, $"invalid YAML: this '{innermost.Opener}' is never closed (reading stopped at line {stopped.Line})");
        }
    }
}
