using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace RecCluster.Core.Config.Import;

/// <summary>
/// A config rewritten into our shape. Every node keeps the position of the text it came from (a copied node its own, a
/// renamed key or a translated value the user's key or value), so the loader's file:line:col messages point into the
/// user's file, not into the translation.
/// </summary>
public abstract record Tree(Mark At)
{
    public static Tree Copy(YamlNode node) => new Copied(node);

    public static Tree Scalar(string text, YamlNode at) => new Text(text, at.Start);

    /// <summary>The text of a key: a scalar's value, or empty for a collection.</summary>
    public string Name => this switch
    {
        Text t => t.Value,
        Copied { Node: YamlScalarNode s } => s.Value ?? "",
        _ => "",
    };

    public static Tree List(YamlNode at, IEnumerable<Tree> items) => new Items([.. items], at.Start);

    public static Tree Map(YamlNode at, IEnumerable<(Tree Key, Tree Value)> entries) => new Entries([.. entries], at.Start);

    /// <summary>The tree as a YAML node, loaded from parser events that carry each node's position.</summary>
    public YamlNode ToNode()
    {
        var events = new List<ParsingEvent> { new StreamStart(), new DocumentStart(null, null, isImplicit: true, At, At) };
        Emit(events);
        events.Add(new DocumentEnd(isImplicit: true, At, At));
        events.Add(new StreamEnd());
        var stream = new YamlStream();
        stream.Load(new EventList(events));
        return stream.Documents[0].RootNode;
    }

    internal abstract void Emit(List<ParsingEvent> events);

    private sealed record Text(string Value, Mark At) : Tree(At)
    {
        internal override void Emit(List<ParsingEvent> events) =>
            events.Add(new Scalar(AnchorName.Empty, TagName.Empty, Value, ScalarStyle.Plain, true, false, At, At));
    }

    private sealed record Items(IReadOnlyList<Tree> Children, Mark At) : Tree(At)
    {
        internal override void Emit(List<ParsingEvent> events)
        {
            // Short lists of values read best on one line.
            var style = Children.All(c => c is Text or Copied { Node: YamlScalarNode }) ? SequenceStyle.Flow : SequenceStyle.Block;
            events.Add(new SequenceStart(AnchorName.Empty, TagName.Empty, true, style, At, At));
            foreach (var child in Children) child.Emit(events);
            events.Add(new SequenceEnd(At, At));
        }
    }

    private sealed record Entries(IReadOnlyList<(Tree Key, Tree Value)> Children, Mark At) : Tree(At)
    {
        internal override void Emit(List<ParsingEvent> events)
        {
            events.Add(new MappingStart(AnchorName.Empty, TagName.Empty, true, MappingStyle.Block, At, At));
            foreach (var (key, value) in Children)
            {
                key.Emit(events);
                value.Emit(events);
            }
            events.Add(new MappingEnd(At, At));
        }
    }

    private sealed record Copied(YamlNode Node) : Tree(Node.Start)
    {
        internal override void Emit(List<ParsingEvent> events) => EmitNode(Node, events);

        private static void EmitNode(YamlNode node, List<ParsingEvent> events)
        {
            switch (node)
            {
                case YamlScalarNode s:
                    bool plain = s.Style is ScalarStyle.Plain or ScalarStyle.Any;
                    events.Add(new Scalar(AnchorName.Empty, s.Tag, s.Value ?? "", s.Style, plain && s.Tag.IsEmpty, !plain, s.Start, s.End));
                    break;
                case YamlSequenceNode q:
                    events.Add(new SequenceStart(AnchorName.Empty, q.Tag, q.Tag.IsEmpty, q.Style, q.Start, q.End));
                    foreach (var child in q.Children) EmitNode(child, events);
                    events.Add(new SequenceEnd(q.End, q.End));
                    break;
                case YamlMappingNode m:
                    events.Add(new MappingStart(AnchorName.Empty, m.Tag, m.Tag.IsEmpty, m.Style, m.Start, m.End));
                    foreach (var (key, value) in m.Children)
                    {
                        EmitNode(key, events);
                        EmitNode(value, events);
                    }
                    events.Add(new MappingEnd(m.End, m.End));
                    break;
                default:
                    throw new InvalidOperationException($"unexpected YAML node {node.GetType().Name}");
            }
        }
    }

    private sealed class EventList(List<ParsingEvent> events) : IParser
    {
        private int _next;

        public ParsingEvent? Current { get; private set; }

        public bool MoveNext()
        {
            if (_next >= events.Count) return false;
            Current = events[_next++];
            return true;
        }
    }
}
