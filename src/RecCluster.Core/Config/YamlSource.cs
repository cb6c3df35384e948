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
    /// <summary>Longest text read (1 MiB, the HTTP API's body limit too): configs are a few hundred bytes.</summary>
    public const int MaxChars = 1 << 20;

    /// <summary>Deepest nesting of lists and mappings: deeper input would exhaust the stack of a recursive reader.</summary>
    public const int MaxDepth = 64;

    /// <summary>Most aliases (<c>*name</c>) in one document.</summary>
    public const int MaxAliases = 100;

    /// <summary>Most nodes once every alias is expanded: a "billion laughs" document is refused before anything walks it.</summary>
    public const int MaxExpandedNodes = 100_000;

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
        if (text.Length > MaxChars)
        {
            source.Error(1, 1, $"the file is {text.Length} characters long; a config may have at most {MaxChars}");
            return source;
        }
        using var reader = new StringReader(text);
        var scanner = new Scanner(reader);
        var parser = new CollectionTracker(new Parser(scanner));
        var stream = new YamlStream();
        try
        {
            stream.Load(parser);
        }
        catch (LimitException e)
        {
            source.Error((int)e.At.Line, (int)e.At.Column, e.Message);
            return source;
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

    /// <summary>A share strictly between 0 and 1, such as a holdout ratio.</summary>
    public double? Share(YamlNode node, string what)
    {
        if (node is YamlScalarNode s && ScalarValue(s) is long or double)
        {
            double v = Convert.ToDouble(ScalarValue(s), CultureInfo.InvariantCulture);
            if (v is > 0 and < 1) return v;
            Error(node, $"{what} must lie strictly between 0 and 1, got {v.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }
        Error(node, $"{what} must be a number strictly between 0 and 1");
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

    /// <summary>A document over one of the limits, stopped while it was being read.</summary>
    private sealed class LimitException(Mark at, string message) : Exception(message)
    {
        public Mark At { get; } = at;
    }

    /// <summary>
    /// Follows the parser's collections so that a failure can point at a '[' or '{' left open, and enforces the limits on
    /// depth, aliases and expanded size as events arrive: the representation model shares an anchored node between its aliases,
    /// but whatever walks the tree later visits it once per alias, so the size that counts is the expanded one.
    /// </summary>
    private sealed class CollectionTracker(IParser inner) : IParser
    {
        private readonly Stack<(bool Flow, char Opener, Mark Start, string? Anchor, long Nodes)> _open = new();
        private readonly Dictionary<string, long> _anchorNodes = new(StringComparer.Ordinal);
        private long _nodes;
        private int _aliases;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext()) return false;
            switch (inner.Current)
            {
                case SequenceStart s: Open(s.Style == SequenceStyle.Flow, '[', s); break;
                case MappingStart m: Open(m.Style == MappingStyle.Flow, '{', m); break;
                case SequenceEnd or MappingEnd:
                    var closed = _open.Pop();
                    if (closed.Anchor is not null) _anchorNodes[closed.Anchor] = closed.Nodes;
                    Count(closed.Nodes, inner.Current.Start, counted: true);
                    break;
                case Scalar scalar:
                    if (!scalar.Anchor.IsEmpty) _anchorNodes[scalar.Anchor.Value] = 1;
                    Count(1, scalar.Start);
                    break;
                case AnchorAlias alias:
                    if (++_aliases > MaxAliases)
                        throw new LimitException(alias.Start, $"more than {MaxAliases} aliases (*name) in one document");
                    // An anchor still open is one this alias sits inside: a cycle, which would never end when expanded.
                    if (!_anchorNodes.TryGetValue(alias.Value.Value, out var nodes))
                        throw new LimitException(alias.Start, $"alias *{alias.Value.Value} refers to a collection that contains it");
                    Count(nodes, alias.Start);
                    break;
            }
            return true;
        }

        private void Open(bool flow, char opener, NodeEvent start)
        {
            if (_open.Count >= MaxDepth) throw new LimitException(start.Start, $"lists and mappings nested more than {MaxDepth} deep");
            Count(0, start.Start, counted: false);
            _nodes++;   // the collection itself; its children add theirs as they come
            var anchor = start.Anchor.IsEmpty ? null : start.Anchor.Value;
            // A reused anchor name now means this open collection: an alias to it from inside is a cycle, not the old node.
            if (anchor is not null) _anchorNodes.Remove(anchor);
            _open.Push((flow, opener, start.Start, anchor, 1));
        }

        /// <summary>Adds a node (or an expanded alias, or a closed collection) to its parent and to the document's total.</summary>
        /// <param name="counted">A closed collection's nodes are in the total already.</param>
        private void Count(long nodes, Mark at, bool counted = false)
        {
            if (_open.Count > 0)
            {
                var parent = _open.Pop();
                _open.Push(parent with { Nodes = parent.Nodes + nodes });
            }
            if (!counted) _nodes += nodes;
            if (_nodes > MaxExpandedNodes)
                throw new LimitException(at, $"the document expands to more than {MaxExpandedNodes} nodes (through its aliases)");
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
