using YamlDotNet.RepresentationModel;

namespace RecCluster.Core.Config.Import;

/// <summary>
/// Configs users already have, read as written: a whole WarpRec experiment file (told apart by its sections), WarpRec's
/// <c>models:</c> block (its model names, hyperparameter names and inline search spaces) and Shaped's
/// <c>policy_configs:</c> beside our sections. Each is rewritten into our shape before the loader checks it, keeping
/// every position, so the checks and their file:line:col messages are the loader's own.
/// </summary>
public static class ConfigImport
{
    /// <summary>Sections only a WarpRec experiment file has; ours has <c>data</c> instead.</summary>
    private static readonly string[] WarpRecSections = ["reader", "splitter", "writer", "general", "dashboard", "filtering"];

    /// <summary>
    /// The document in our shape: <paramref name="root"/> itself when nothing is foreign, a rewritten node otherwise, or null
    /// when the rewrite found problems (reported on <paramref name="source"/>, with its warnings).
    /// </summary>
    public static YamlNode? Translate(YamlSource source, YamlNode root)
    {
        if (root is not YamlMappingNode top) return root;
        int before = source.Errors.Count;
        var keys = top.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToHashSet(StringComparer.Ordinal);
        var tree = !keys.Contains("data") && keys.Overlaps(WarpRecSections)
            ? WarpRecExperiment.Translate(source, top) : OurFormat(source, top);
        if (source.Errors.Count > before) return null;
        return tree?.ToNode() ?? root;
    }

    /// <summary>Reads a file and gives its warnings (for the commands to print on stderr); errors are the loader's to report.</summary>
    public static IReadOnlyList<ConfigError> Warnings(string path)
    {
        var source = YamlSource.Parse(path, File.ReadAllText(path), out var root);
        if (root is not null) Translate(source, root);
        return source.Warnings;
    }

    /// <summary>The file in our YAML (for <c>reccluster import</c>); the caller has loaded it, so it is valid.</summary>
    public static string ToOurs(string path)
    {
        var source = YamlSource.Parse(path, File.ReadAllText(path), out var root);
        var ours = Translate(source, root!) ?? throw new ConfigException(source.Errors);
        // Relative data paths resolve against the file's folder; written out absolute, the output works wherever it is saved.
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        foreach (var key in new[] { "path", "item_features", "item_embeddings" })
            if (Child(Child(ours, "data"), key) is YamlScalarNode { Value: { } relative } at)
                at.Value = Path.GetFullPath(Path.Combine(folder, relative));
        using var writer = new StringWriter();
        new YamlStream(new YamlDocument(ours)).Save(writer, assignAnchors: false);
        // YamlDotNet closes the document with a "..." line; the file holds one document, so it is dropped.
        var lines = writer.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        return string.Join("\n", lines[^1] == "..." ? lines[..^1] : lines) + "\n";
    }

    private static YamlNode? Child(YamlNode? node, string key) =>
        node is YamlMappingNode map ? map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: var k } && k == key).Value : null;

    /// <summary>Our sections with WarpRec's <c>models:</c> block or Shaped's <c>policy_configs:</c>; null when nothing is foreign.</summary>
    private static Tree? OurFormat(YamlSource source, YamlMappingNode top)
    {
        bool changed = false;
        var entries = new List<(Tree, Tree)>();
        bool hasModels = top.Children.Keys.Any(k => k is YamlScalarNode { Value: "models" });
        foreach (var (key, value) in top.Children)
        {
            var name = (key as YamlScalarNode)?.Value;
            if (name == "policy_configs")
            {
                changed = true;
                if (hasModels) source.Error(key, "write the models under one of 'models' or 'policy_configs' (Shaped's), not both");
                else entries.Add((Tree.Scalar("models", key), ShapedPolicies(source, value)));
            }
            else if (name == "models" && value is YamlMappingNode models)
            {
                var rewritten = Models(source, models, m => NoWarpRecSections(source, models, m.Key), [], ref changed);
                entries.Add((Tree.Copy(key), rewritten));
            }
            else entries.Add((Tree.Copy(key), Tree.Copy(value)));
        }
        return changed ? Tree.Map(top, entries) : null;
    }

    /// <summary>A WarpRec model's optimization, early_stopping and meta have their counterparts elsewhere in our file.</summary>
    private static IEnumerable<(Tree, Tree)> NoWarpRecSections(YamlSource source, YamlMappingNode models, YamlNode modelKey)
    {
        if (models.Children[modelKey] is YamlMappingNode model)
            foreach (var key in model.Children.Keys.OfType<YamlScalarNode>().Where(k => WarpRecExperiment.ModelSections.Contains(k.Value)))
                source.Error(key, $"WarpRec's '{key.Value}' section is read in a whole WarpRec experiment file (with reader and " +
                    "splitter); beside our sections write search, scheduler and resources at the top level and early_stopping_step " +
                    "in the model");
        return [];
    }

    private static Tree ShapedPolicies(YamlSource source, YamlNode node)
    {
        var map = source.Mapping(node, "policy_configs", ["scoring_policy", "embedding_policy"]);
        var models = new List<(Tree, Tree)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (role, (key, body)) in map ?? [])
        {
            if (body is not YamlMappingNode policy)
            {
                source.Error(body, $"policy_configs.{role} must be a mapping with policy_type");
                continue;
            }
            var typeEntry = policy.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: "policy_type" });
            var type = (typeEntry.Value as YamlScalarNode)?.Value;
            if (type is null) { source.Error(key, $"policy_configs.{role} needs policy_type (sasrec or bert4rec)"); continue; }
            if (!ForeignNames.ShapedPolicies.TryGetValue(type, out var model))
            {
                source.Error(typeEntry.Value,
                    $"Shaped policy_type '{type}' has no model here; supported: {string.Join(", ", ForeignNames.ShapedPolicies.Keys)}");
                continue;
            }
            if (!seen.Add(model))
            {
                source.Error(typeEntry.Value, $"policy_type '{type}' is already given by the other policy; a sweep trains each model once");
                continue;
            }
            bool ignored = false;
            var parameters = Parameters(source, model, policy, ["policy_type"], [], ref ignored);
            models.Add((Tree.Scalar(model, key), parameters));
        }
        if (models.Count == 2)
            source.Warn(node, "scoring_policy and embedding_policy each become a model of the sweep, both evaluated as full rankers");
        return Tree.Map(node, models);
    }

    /// <summary>
    /// A models block with WarpRec's model names, hyperparameter names and inline search spaces rewritten to ours.
    /// <paramref name="extra"/> gives settings to add to a model (from a WarpRec file's other sections); keys in
    /// <paramref name="skip"/> are sections the caller has read.
    /// </summary>
    internal static Tree Models(YamlSource source, YamlMappingNode models,
        Func<(string Model, YamlNode Key), IEnumerable<(Tree, Tree)>> extra, IReadOnlyCollection<string> skip, ref bool changed)
    {
        var named = new Dictionary<string, string>(StringComparer.Ordinal);   // our model name → the name it was written under
        var entries = new List<(Tree, Tree)>();
        foreach (var (key, value) in models.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            // WarpRec looks model names up in any case.
            var model = ForeignNames.WarpRecModels.TryGetValue(name, out var ours) ? ours : name;
            changed |= model != name;
            if (!named.TryAdd(model, name))
                source.Error(key, $"'{name}' names the same model as '{named[model]}' (ours: '{model}'): write one of them");
            var added = ModelCatalog.IsKnown(model) ? extra((model, key)).ToList() : [];
            changed |= added.Count > 0;
            Tree body = value is YamlMappingNode parameters && ModelCatalog.IsKnown(model)
                ? Parameters(source, model, parameters, skip, added, ref changed)
                : added.Count > 0 ? Tree.Map(key, added) : Tree.Copy(value);
            entries.Add((model == name ? Tree.Copy(key) : Tree.Scalar(model, key), body));
        }
        return Tree.Map(models, entries);
    }

    private static Tree Parameters(YamlSource source, string model, YamlMappingNode parameters, IReadOnlyCollection<string> skip,
        List<(Tree, Tree)> added, ref bool changed)
    {
        var aliases = ForeignNames.HyperparameterAliases(model);
        var written = parameters.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToHashSet(StringComparer.Ordinal);
        var entries = new List<(Tree, Tree)>();
        foreach (var (key, value) in parameters.Children)
        {
            var name = (key as YamlScalarNode)?.Value ?? "";
            if (skip.Contains(name)) continue;
            // Both names written: kept as written, so the loader says which two clash.
            bool rename = aliases.TryGetValue(name, out var ours) && !written.Contains(ours!);
            changed |= rename;
            var space = InlineSpace(source, value);
            changed |= space is not null;
            entries.Add((rename ? Tree.Scalar(ours!, key) : Tree.Copy(key), space ?? Tree.Copy(value)));
        }
        // A value the model block sets itself wins over one another section gives every model (general.device, say).
        return Tree.Map(parameters, [.. entries, .. added.Where(a => !written.Contains(a.Item1.Name))]);
    }

    /// <summary>WarpRec's <c>[kind, lo, hi, q?, log_base?]</c> as our <c>{kind: [...]}</c>; null when the value is not one.</summary>
    private static Tree? InlineSpace(YamlSource source, YamlNode value)
    {
        if (value is not YamlSequenceNode list || list.Children.Count == 0
            || list.Children[0] is not YamlScalarNode { Value: { } kind } head || !ForeignNames.SearchSpaces.TryGetValue(kind, out var space))
            return null;
        var rest = list.Children.Skip(1).ToList();
        if (space.Ours is null)
        {
            source.Error(head, $"WarpRec search space '{kind}': {space.Why}");
            return Tree.Copy(value);
        }
        // The optional log base of a log-uniform space does not change its distribution.
        if (space.Ours == "loguniform" && rest.Count == 3) rest.RemoveAt(2);
        return Tree.Map(list, [(Tree.Scalar(space.Ours, head), Tree.List(list, rest.Select(Tree.Copy)))]);
    }
}
