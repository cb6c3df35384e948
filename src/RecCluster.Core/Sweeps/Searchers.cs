using RecCluster.Core.Config;

namespace RecCluster.Core.Sweeps;

/// <summary>One trial proposed by a search: its place in the search order and the values written for it.</summary>
public sealed record TrialSuggestion(int Index, string Model, IReadOnlyDictionary<string, ParamValue> Params);

/// <summary>
/// Proposes trials. Scores given to <see cref="Observe"/> are oriented so that higher is better.
/// The sequence of suggestions is a pure function of the seed and the observations, so a resumed sweep
/// replays it and skips what already finished.
/// </summary>
public interface ISearcher
{
    /// <summary>How many trials the search will propose in all.</summary>
    int Total { get; }

    /// <summary>The next trial, or null when the search is exhausted.</summary>
    TrialSuggestion? Next();

    void Observe(TrialSuggestion trial, double score);
}

public static class Searchers
{
    public static ISearcher Create(IReadOnlyList<ModelSpace> models, SearchConfig search) => search.Algorithm switch
    {
        SearchAlgorithm.Grid => new GridSearcher(models, search.NumTrials, search.Seed),
        _ => new RoundRobinSearcher(models, search),
    };

    internal static Dictionary<string, ParamValue> Draw(ModelSpace model, Random random, Func<string, Domain, ParamValue?>? chooser = null)
    {
        var specs = ModelCatalog.ParamsOf(model.Name).ToDictionary(s => s.Name);
        var values = new Dictionary<string, ParamValue>(StringComparer.Ordinal);
        foreach (var (name, domain) in model.Space)
            values[name] = chooser?.Invoke(name, domain) ?? domain.Sample(random, specs[name]);
        return values;
    }
}

/// <summary>Every combination of grid values, repeated; other spaces are drawn for each trial.</summary>
public sealed class GridSearcher : ISearcher
{
    private readonly List<(ModelSpace Model, Dictionary<string, ParamValue> Grid)> _points = [];
    private readonly Random _random;
    private int _next;

    public GridSearcher(IReadOnlyList<ModelSpace> models, int repeats, int seed)
    {
        _random = new Random(seed);
        for (int r = 0; r < repeats; r++)
        foreach (var model in models)
        {
            IEnumerable<Dictionary<string, ParamValue>> combos = [new Dictionary<string, ParamValue>(StringComparer.Ordinal)];
            foreach (var (name, domain) in model.Space.Where(kv => kv.Value is CategoricalDomain { IsGrid: true }))
                combos = combos.SelectMany(c => ((CategoricalDomain)domain).Values.Select(v => new Dictionary<string, ParamValue>(c, StringComparer.Ordinal) { [name] = v }));
            _points.AddRange(combos.Select(c => (model, c)));
        }
    }

    public int Total => _points.Count;

    public TrialSuggestion? Next()
    {
        if (_next >= _points.Count) return null;
        var (model, grid) = _points[_next];
        var values = Searchers.Draw(model, _random, (name, _) => grid.GetValueOrDefault(name));
        return new TrialSuggestion(_next++, model.Name, values);
    }

    public void Observe(TrialSuggestion trial, double score) { }
}

/// <summary>Random or TPE search; with several models, trials alternate between them.</summary>
public sealed class RoundRobinSearcher : ISearcher
{
    private readonly List<(ModelSpace Model, TpeSampler Sampler)> _models;
    private readonly int _total;
    private int _next;

    public RoundRobinSearcher(IReadOnlyList<ModelSpace> models, SearchConfig search)
    {
        _total = search.NumTrials;
        int startup = search.Algorithm == SearchAlgorithm.Random ? int.MaxValue : Math.Max(5, search.NumTrials / (4 * models.Count));
        _models = [.. models.Select((m, i) => (m, new TpeSampler(m, new Random(unchecked(search.Seed * 1_000_003 + i)), startup)))];
    }

    public int Total => _total;

    public TrialSuggestion? Next()
    {
        if (_next >= _total) return null;
        var (model, sampler) = _models[_next % _models.Count];
        return new TrialSuggestion(_next++, model.Name, sampler.Suggest());
    }

    public void Observe(TrialSuggestion trial, double score) =>
        _models.First(m => m.Model.Name == trial.Model).Sampler.Observe(trial.Params, score);
}
