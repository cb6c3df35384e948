namespace RecCluster.Core.Config;

/// <summary>A model's fully resolved hyperparameters: every listed name has a typed value.</summary>
public sealed class TrialParameters(IReadOnlyDictionary<string, ParamValue> values, IReadOnlySet<string> explicitNames)
{
    public IReadOnlyDictionary<string, ParamValue> Values { get; } = values;

    /// <summary>True when the user wrote the value, false when it is a default.</summary>
    public bool IsExplicit(string name) => explicitNames.Contains(name);

    public long GetInt(string name) => (long)Values[name];
    public double GetDouble(string name) => (double)Values[name];
    public string GetString(string name) => (string)Values[name];
    public bool GetBool(string name) => (bool)Values[name];

    /// <summary>Applies defaults and derived defaults to the values a user wrote.</summary>
    public static TrialParameters Resolve(string model, IReadOnlyDictionary<string, ParamValue> written)
    {
        var values = new Dictionary<string, ParamValue>(StringComparer.Ordinal);
        var specs = ModelCatalog.ParamsOf(model);
        foreach (var spec in specs)
            if (written.TryGetValue(spec.Name, out var v)) values[spec.Name] = v;
            else if (spec.Default is not null) values[spec.Name] = spec.Default;
        foreach (var spec in specs.Where(s => !values.ContainsKey(s.Name)))
            values[spec.Name] = ModelCatalog.DerivedDefault(spec.Name, values);
        return new TrialParameters(values, written.Keys.ToHashSet(StringComparer.Ordinal));
    }
}
