namespace RecCluster.Cli.Tests;

/// <summary>A scratch folder for one test, removed afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    private readonly string _path = Directory.CreateTempSubdirectory("reccluster-cli-").FullName;

    public string Combine(string name) => Path.Combine(_path, name);

    public string Write(string name, string text)
    {
        var path = Combine(name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => Directory.Delete(_path, true);
}
