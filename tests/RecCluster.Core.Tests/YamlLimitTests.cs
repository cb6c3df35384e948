using System.Diagnostics;
using System.Text;
using RecCluster.Core.Config;

namespace RecCluster.Core.Tests;

/// <summary>Hostile YAML (alias bombs, deep nesting, huge text) is refused while it is read, with file:line:col.</summary>
public class YamlLimitTests
{
    /// <summary>The classic "billion laughs": nine levels of ten aliases each, 10^9 nodes once expanded.</summary>
    public static string BillionLaughs()
    {
        var yaml = new StringBuilder("name: lol\nl0: &l0 [lol]\n");
        for (int level = 1; level <= 9; level++)
            yaml.Append($"l{level}: &l{level} [{string.Join(", ", Enumerable.Repeat($"*l{level - 1}", 10))}]\n");
        return yaml.Append("models: {sasrec: {hidden_size: *l9}}\n").ToString();
    }

    private static ConfigError OnlyError(string yaml)
    {
        var source = YamlSource.Parse("/x/s.yaml", yaml, out var root);
        Assert.Null(root);
        return Assert.Single(source.Errors);
    }

    [Fact]
    public void A_billion_laughs_document_is_refused_quickly_at_the_alias_that_crosses_the_limit()
    {
        var watch = Stopwatch.StartNew();
        var error = OnlyError(BillionLaughs());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"{watch.Elapsed}");
        Assert.Contains($"expands to more than {YamlSource.MaxExpandedNodes} nodes", error.Message);
        Assert.Equal(7, error.Line);   // l5 = 111,111 nodes: the first level over 100,000
        // The loader reports it as any config problem, so `validate`, `sweep` and the API all refuse it.
        var problems = Assert.Throws<ConfigException>(() => ExperimentLoader.LoadSweep(new SweepSource("/x/s.yaml", BillionLaughs())));
        Assert.Contains("expands to more than", Assert.Single(problems.Errors).Message);
    }

    [Fact]
    public void Few_aliases_over_many_levels_are_counted_by_expanded_size_not_by_alias_count()
    {
        // 2 aliases a level, 20 levels: 40 aliases (under the alias limit) but 2^20 nodes expanded.
        var yaml = new StringBuilder("a0: &a0 x\n");
        for (int level = 1; level <= 20; level++) yaml.Append($"a{level}: &a{level} [*a{level - 1}, *a{level - 1}]\n");
        Assert.Contains("expands to more than", OnlyError(yaml.ToString()).Message);
    }

    [Fact]
    public void Too_many_aliases_too_deep_nesting_a_cycle_and_too_much_text_are_each_refused()
    {
        var aliases = "a: &a x\nb: [" + string.Join(", ", Enumerable.Repeat("*a", YamlSource.MaxAliases + 1)) + "]\n";
        Assert.Contains($"more than {YamlSource.MaxAliases} aliases", OnlyError(aliases).Message);

        // A stack-deep document would overflow a recursive reader; it is stopped at the limit, pointing at the opener.
        var deep = OnlyError(new string('[', 100_000));
        Assert.Equal(($"lists and mappings nested more than {YamlSource.MaxDepth} deep", 1, YamlSource.MaxDepth + 1),
            (deep.Message, deep.Line, deep.Column));
        Assert.Null(Record.Exception(() => YamlSource.Parse("/x/s.yaml",
            new string('[', YamlSource.MaxDepth) + new string(']', YamlSource.MaxDepth), out _)));

        Assert.Contains("refers to a collection that contains it", OnlyError("a: &a [1, *a]\n").Message);
        // The same cycle behind an anchor name used before: YamlDotNet would build a list that holds itself and hash it forever.
        Assert.Contains("refers to a collection that contains it", OnlyError("a: &x 1\n? &x [*x]\n: 2\n").Message);
        Assert.Contains("refers to a collection that contains it", OnlyError("a: &x [1]\nb: &x {c: *x}\n").Message);

        var big = OnlyError("# " + new string('x', YamlSource.MaxChars) + "\nname: t\n");
        Assert.Contains($"a config may have at most {YamlSource.MaxChars}", big.Message);
    }

    [Fact]
    public void Ordinary_anchors_and_aliases_still_work()
    {
        var source = YamlSource.Parse("/x/s.yaml", "base: &b {hidden_size: 32, n_layers: 2}\nother: *b\nlist: [*b, *b]\n", out var root);
        Assert.Empty(source.Errors);
        Assert.NotNull(root);
    }
}
