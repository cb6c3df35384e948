using RecCluster.Core.Config;
using RecCluster.Core.Security;

namespace RecCluster.Core.Tests;

/// <summary>Data roots and the guard on folders named from outside: '..', absolute paths and links that lead out.</summary>
public sealed class PathConfinementTests : IDisposable
{
    private readonly TempFiles _files = new();
    private readonly string _root;
    private readonly string _outside;
    private readonly DataRoots _roots;

    public PathConfinementTests()
    {
        _root = Directory.CreateDirectory(Path.Combine(_files.Folder, "data")).FullName;
        _outside = Directory.CreateDirectory(Path.Combine(_files.Folder, "private")).FullName;
        File.WriteAllText(Path.Combine(_root, "ok.inter"), "");
        File.WriteAllText(Path.Combine(_outside, "secret.inter"), "");
        _roots = DataRoots.Of([_root], "--data-root");
    }

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_file_under_a_root_is_allowed_and_anywhere_allows_everything()
    {
        Assert.Null(_roots.Refusal(Path.Combine(_root, "ok.inter")));
        Assert.Null(_roots.Refusal(Path.Combine(_root, "sub", "not-yet.inter")));
        Assert.Null(DataRoots.Anywhere.Refusal(Path.Combine(_outside, "secret.inter")));
        Assert.False(DataRoots.Anywhere.Confined);
    }

    [Fact]
    public void Dot_dot_absolute_paths_and_a_sibling_with_the_roots_name_as_prefix_are_refused_naming_the_path()
    {
        var escape = _root + "/../private/secret.inter";
        Assert.Equal($"{escape} is outside the data roots ({_root})", _roots.Refusal(escape));
        Assert.StartsWith("/etc/passwd is outside the data roots", _roots.Refusal("/etc/passwd"));
        Directory.CreateDirectory(_root + "-evil");
        Assert.NotNull(_roots.Refusal(_root + "-evil/x.inter"));
    }

    [Fact]
    public void A_link_inside_a_root_that_leads_out_is_refused_and_a_root_that_is_a_link_is_resolved()
    {
        var link = Path.Combine(_root, "innocent");
        Directory.CreateSymbolicLink(link, _outside);
        var refusal = _roots.Refusal(Path.Combine(link, "secret.inter"));
        Assert.Equal($"{link}/secret.inter (it leads to {_outside}/secret.inter) is outside the data roots ({_root})", refusal);
        File.CreateSymbolicLink(Path.Combine(_root, "file-link.inter"), Path.Combine(_outside, "secret.inter"));
        Assert.NotNull(_roots.Refusal(Path.Combine(_root, "file-link.inter")));

        // The kernel applies '..' after following a link: root/innocent/../x is private/../x, not root/x.
        Assert.Equal(Path.Combine(_files.Folder, "x"), PathConfinement.RealPath(Path.Combine(link, "..", "x")));

        var linkedRoot = Path.Combine(_files.Folder, "data-link");
        Directory.CreateSymbolicLink(linkedRoot, _root);
        var roots = DataRoots.Of([linkedRoot], "--data-root");
        Assert.Equal([_root], roots.Roots);
        Assert.Null(roots.Refusal(Path.Combine(linkedRoot, "ok.inter")));
        Assert.Null(roots.Refusal(Path.Combine(_root, "ok.inter")));
    }

    [Fact]
    public void A_loop_of_links_and_a_missing_root_are_refused()
    {
        var a = Path.Combine(_root, "a");
        File.CreateSymbolicLink(a, Path.Combine(_root, "b"));
        File.CreateSymbolicLink(Path.Combine(_root, "b"), a);
        Assert.Contains("too many levels of symbolic links", _roots.Refusal(a));
        var missing = Path.Combine(_files.Folder, "nope");
        Assert.Equal($"--data-root {missing}: no such folder",
            Assert.Throws<FormatException>(() => DataRoots.Of([missing], "--data-root")).Message);
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/tmp/escape")]
    [InlineData("innocent/x")]
    public void A_name_from_outside_cannot_lead_out_of_its_folder(string relative)
    {
        Directory.CreateSymbolicLink(Path.Combine(_root, "innocent"), _outside);
        Assert.Contains("leads outside", Assert.Throws<ArgumentException>(() => PathConfinement.Inside(_root, relative)).Message);
    }

    [Fact]
    public void A_name_that_stays_inside_is_joined() =>
        Assert.Equal(Path.Combine(_root, "t-1a2b", "trial-0001"), PathConfinement.Inside(_root, "t-1a2b/trial-0001"));

    private string Sweep(string data) => $"""
        name: t
        data: {data}
        models: {"{"}pop: {"{"}{"}"}{"}"}
        """;

    [Fact]
    public void A_submitted_sweep_reading_outside_the_roots_is_refused_at_its_key_without_saying_whether_the_file_exists()
    {
        var sweepFile = Path.Combine(_root, "sweep.yaml");
        ConfigError Refused(string data) => Assert.Single(Assert.Throws<ConfigException>(
            () => ExperimentLoader.LoadSweep(new SweepSource(sweepFile, Sweep(data)), _roots)).Errors);

        var error = Refused("{path: ../private/secret.inter}");
        Assert.Equal((2, 14), (error.Line, error.Column));
        Assert.StartsWith($"data.path: {_outside}/secret.inter is outside the data roots ({_root})", error.Message);
        Assert.Contains("is outside the data roots", Refused("{path: /nonexistent/x.inter}").Message);
        Assert.StartsWith("data.item_features: /etc/passwd is outside", Refused("{path: ok.inter, item_features: /etc/passwd}").Message);
        // Inside the roots the usual checks run.
        Assert.Contains("data file not found", Refused("{path: missing.inter}").Message);
    }

    [Theory]
    [InlineData("../../tmp/x")]
    [InlineData("/etc/cron.d/x")]
    [InlineData(".hidden")]
    [InlineData("a b")]
    public void A_sweep_name_that_could_name_a_folder_elsewhere_is_refused(string name)
    {
        var yaml = Sweep("{synthetic: {users: 50, items: 100}}").Replace("name: t", $"name: '{name}'");
        var errors = Assert.Throws<ConfigException>(() => ExperimentLoader.LoadSweep(new SweepSource("/x/s.yaml", yaml))).Errors;
        Assert.Contains("may hold only letters, digits, '.', '_' and '-'", Assert.Single(errors).Message);
    }

    [Fact]
    public void A_sweep_without_a_name_takes_its_files_name_made_safe() =>
        Assert.Equal("my-sweep--1", ExperimentLoader.LoadSweep(new SweepSource("/x/my sweep (1.yaml",
            Sweep("{synthetic: {users: 50, items: 100}}").Replace("name: t\n", ""))).Experiment.Name);
}
