using System.CommandLine;
using System.Text.RegularExpressions;
using RecCluster.Cli;
using YamlDotNet.RepresentationModel;

namespace RecCluster.Deploy.Tests;

/// <summary>The repository's deploy/ folder and what the code says the files must agree with.</summary>
internal static partial class DeployFiles
{
    public static string Root { get; } = FindRoot();

    public static string DeployFile(string relative) => Path.Combine(Root, "deploy", relative);

    public static string Read(string relative) => File.ReadAllText(Path.Combine(Root, relative));

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RecCluster.sln")) && Directory.Exists(Path.Combine(dir.FullName, "deploy")))
                return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (RecCluster.sln and deploy/) is not above the test's folder");
    }

    /// <summary>The YAML documents of a file (merge keys, <c>&lt;&lt;: *anchor</c>, applied).</summary>
    public static List<YamlMappingNode> Yaml(string relative)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(DeployFile(relative)))) stream.Load(reader);
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    public static YamlMappingNode Map(this YamlNode node, string key)
    {
        var map = Assert.IsType<YamlMappingNode>(node);
        if (map.Children.TryGetValue(new YamlScalarNode(key), out var value)) return Assert.IsType<YamlMappingNode>(value);
        // A merge key: the anchored mapping's entries, unless overridden.
        if (map.Children.TryGetValue(new YamlScalarNode("<<"), out var merged)) return merged.Map(key);
        throw new KeyNotFoundException($"no '{key}' at line {node.Start.Line}");
    }

    public static YamlNode? Get(this YamlNode node, string key)
    {
        var map = (YamlMappingNode)node;
        if (map.Children.TryGetValue(new YamlScalarNode(key), out var value)) return value;
        return map.Children.TryGetValue(new YamlScalarNode("<<"), out var merged) ? merged.Get(key) : null;
    }

    public static string Text(this YamlNode? node) => Assert.IsType<YamlScalarNode>(node).Value!;

    public static List<string> Texts(this YamlNode? node) =>
        [.. Assert.IsType<YamlSequenceNode>(node).Children.Select(c => ((YamlScalarNode)c).Value!)];

    public static IEnumerable<YamlNode> Items(this YamlNode? node) => node is YamlSequenceNode seq ? seq.Children : [];

    /// <summary>
    /// Parses a reccluster command line with the CLI's own parser and fails on any error; returns the command it names and
    /// every environment variable that command's options document (their descriptions say "env RECCLUSTER_...").
    /// </summary>
    public static (Command Command, ParseResult Parse, HashSet<string> Variables) CliParse(IReadOnlyList<string> args)
    {
        var parse = CliApp.Parse([.. args]);
        Assert.True(parse.Errors.Count == 0, $"reccluster {string.Join(' ', args)}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        var command = parse.CommandResult.Command;
        var variables = command.Options.SelectMany(o => Variable().Matches(o.Description ?? "").Select(m => m.Value)).ToHashSet();
        return (command, parse, variables);
    }

    /// <summary>Every RECCLUSTER_* name in a text.</summary>
    public static HashSet<string> VariablesIn(string text) => [.. Variable().Matches(text).Select(m => m.Value)];

    [GeneratedRegex("RECCLUSTER_[A-Z_]+[A-Z]")]
    private static partial Regex Variable();

    /// <summary>The value a parsed option got, by name (e.g. "--port").</summary>
    public static T? Value<T>(this ParseResult parse, string name) =>
        parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == name) is Option<T> option ? parse.GetValue(option) : default;

    /// <summary>The coordinator's default cluster port, from the shipped HOCON.</summary>
    public static int CoordinatorPort() =>
        int.Parse(Regex.Match(Read("cluster-config/coordinator.conf"), @"remote\.dot-netty\.tcp\.port\s*=\s*(\d+)").Groups[1].Value);
}
