using System.Globalization;
using RecCluster.Core.Config;
using YamlDotNet.RepresentationModel;

namespace RecCluster.Core.Sweeps;

/// <summary>Reads and checks one hyperparameter's value or search space against its specification.</summary>
public static class DomainParser
{
    public static Domain? Parse(YamlSource source, ParamSpec spec, YamlNode node)
    {
        switch (node)
        {
            case YamlScalarNode scalar:
                return Value(source, spec, scalar) is { } v ? new FixedDomain(v) : null;
            case YamlSequenceNode list:
                return Categorical(source, spec, list, isGrid: true);
            case YamlMappingNode map when map.Children.Count == 1:
                var (keyNode, body) = map.Children.Single();
                var kind = (keyNode as YamlScalarNode)?.Value ?? "";
                if (!Domain.Kinds.Contains(kind))
                {
                    source.Error(keyNode, $"unknown search space '{kind}' for '{spec.Name}'; {Suggestions.DidYouMean(kind, Domain.Kinds)}");
                    return null;
                }
                if (body is not YamlSequenceNode items)
                {
                    source.Error(body, $"{kind} takes a list, e.g. {{{kind}: {Example(kind)}}}");
                    return null;
                }
                return kind is "grid" or "choice" ? Categorical(source, spec, items, kind == "grid") : Range(source, spec, kind, items);
            default:
                source.Error(node, $"'{spec.Name}' must be a value or one search space such as {{choice: [...]}} or {{uniform: [lo, hi]}}");
                return null;
        }
    }

    private static ParamValue? Value(YamlSource source, ParamSpec spec, YamlScalarNode scalar)
    {
        var raw = YamlSource.ScalarValue(scalar);
        if (raw is null) { source.Error(scalar, $"'{spec.Name}' has no value"); return null; }
        var problem = spec.TryNormalize(raw, out var normalized);
        if (problem is null) return normalized;
        source.Error(scalar, problem);
        return null;
    }

    private static Domain? Categorical(YamlSource source, ParamSpec spec, YamlSequenceNode list, bool isGrid)
    {
        if (list.Children.Count == 0)
        {
            source.Error(list, $"'{spec.Name}': an empty {(isGrid ? "grid" : "choice")} has nothing to try");
            return null;
        }
        var values = new List<ParamValue>();
        foreach (var item in list.Children)
        {
            if (item is not YamlScalarNode scalar) { source.Error(item, $"'{spec.Name}': list items must be plain values"); continue; }
            if (Value(source, spec, scalar) is { } v) values.Add(v);
        }
        return values.Count == list.Children.Count ? new CategoricalDomain(values, isGrid) : null;
    }

    private static Domain? Range(YamlSource source, ParamSpec spec, string kind, YamlSequenceNode items)
    {
        if (spec.Kind is ParamKind.Bool or ParamKind.Choice)
        {
            source.Error(items, $"'{spec.Name}' is categorical: use {{grid: [...]}} or {{choice: [...]}}");
            return null;
        }
        int arity = kind == "quniform" ? 3 : 2;
        if (items.Children.Count != arity)
        {
            source.Error(items, $"{kind} takes {arity} numbers, e.g. {{{kind}: {Example(kind)}}}");
            return null;
        }
        var numbers = items.Children.Select(n => n is YamlScalarNode s && YamlSource.ScalarValue(s) is long or double
            ? Convert.ToDouble(YamlSource.ScalarValue(s), CultureInfo.InvariantCulture) : (double?)null).ToList();
        for (int i = 0; i < numbers.Count; i++)
            if (numbers[i] is null) source.Error(items.Children[i], $"{kind} bounds must be numbers");
        if (numbers.Any(n => n is null)) return null;
        double lo = numbers[0]!.Value, hi = numbers[1]!.Value;
        bool ok = true;
        void Fail(string message) { source.Error(items, $"'{spec.Name}': {message}"); ok = false; }
        if (lo >= hi) Fail($"{kind} needs lo < hi, got [{lo.ToString(CultureInfo.InvariantCulture)}, {hi.ToString(CultureInfo.InvariantCulture)}]");
        if (kind == "loguniform" && lo <= 0) Fail("loguniform needs lo > 0");
        if (kind == "quniform" && numbers[2] <= 0) Fail("quniform needs a step q > 0");
        if (kind == "randint" && (lo != Math.Floor(lo) || hi != Math.Floor(hi))) Fail("randint bounds must be whole numbers (hi is exclusive)");
        if (kind == "randint" && spec.Kind != ParamKind.Int) Fail("randint draws whole numbers; use uniform for a real-valued parameter");
        if (!ok) return null;
        double top = kind == "randint" ? hi - 1 : hi;
        foreach (var bound in new[] { lo, top })
        {
            object value = spec.Kind == ParamKind.Int ? (object)(long)Math.Round(bound) : bound;
            if (spec.TryNormalize(value, out _) is { } problem) { source.Error(items, $"{kind} bound: {problem}"); return null; }
        }
        return new RangeDomain(kind, lo, hi, kind == "quniform" ? numbers[2]!.Value : 0);
    }

    private static string Example(string kind) => kind switch
    {
        "quniform" => "[0.1, 0.5, 0.1]",
        "loguniform" => "[0.0001, 0.01]",
        "randint" => "[1, 4]",
        "uniform" => "[0.1, 0.5]",
        _ => "[32, 64]",
    };

    /// <summary>
    /// Cross-field rules over the space: every grid combination (up to 256) and some random draws are
    /// checked, so a rule broken by any reachable combination is reported before anything runs.
    /// </summary>
    public static IEnumerable<(string Param, string Message)> CrossCheck(ModelSpace model, DataConfig data)
    {
        var specs = ModelCatalog.ParamsOf(model.Name).ToDictionary(s => s.Name);
        var seen = new HashSet<string>();
        foreach (var values in Combinations(model, specs).Take(256))
        {
            foreach (var (param, message) in ModelCatalog.CrossCheck(model.Name, model.Resolve(values), data))
            {
                if (!seen.Add(message.Split('(')[0] + param)) continue;
                bool fixedOnly = model.Space.Values.All(d => d is FixedDomain);
                yield return (param, fixedOnly ? message : $"{message} (reachable with {Describe(values, model)})");
            }
        }
    }

    private static IEnumerable<Dictionary<string, ParamValue>> Combinations(ModelSpace model, Dictionary<string, ParamSpec> specs)
    {
        var random = new Random(0);
        var grid = model.Space.Where(kv => kv.Value is CategoricalDomain).ToList();
        IEnumerable<Dictionary<string, ParamValue>> combos = [new Dictionary<string, ParamValue>()];
        foreach (var (name, domain) in grid)
            combos = combos.SelectMany(c => ((CategoricalDomain)domain).Values.Select(v => new Dictionary<string, ParamValue>(c) { [name] = v }));
        foreach (var combo in combos.Concat(Enumerable.Range(0, 32).Select(_ => new Dictionary<string, ParamValue>())))
        {
            foreach (var (name, domain) in model.Space)
                if (!combo.ContainsKey(name)) combo[name] = domain.Sample(random, specs[name]);
            yield return combo;
        }
    }

    private static string Describe(Dictionary<string, ParamValue> values, ModelSpace model) =>
        string.Join(", ", values.Where(kv => model.Space[kv.Key] is not FixedDomain)
            .Select(kv => $"{kv.Key}={kv.Value}"));
}
