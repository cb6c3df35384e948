using System.Security.Cryptography;
using System.Text;

namespace RecCluster.Core.Config;

/// <summary>
/// A sweep as submitted: its YAML text and the file it was read from. Trials parse this text and never read
/// the file again, so an edit after submission cannot change them; relative data paths resolve against the
/// file's folder.
/// </summary>
public sealed record SweepSource(string Path, string Text)
{
    public static SweepSource Read(string path) => new(System.IO.Path.GetFullPath(path), File.ReadAllText(path));

    /// <summary>The sweep's id: its name and a hash of the text, so an edited file is a new sweep.</summary>
    public string IdFor(string name) => $"{name}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Text)))[..8]}";
}

/// <summary>
/// A data file a sweep reads, by path, with the SHA-256 of its content when the sweep was submitted: every node
/// that runs a trial checks it sees the same bytes.
/// </summary>
public sealed record DataFile(string Path, string Sha256)
{
    public static IReadOnlyList<DataFile> Of(DataConfig data) =>
        [.. new[] { data.Path, data.ItemFeaturesPath, data.ItemEmbeddingsPath }.OfType<string>().Distinct()
            .Select(p => new DataFile(p, Hash(p)))];

    private static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Null when the file reads with the recorded hash; otherwise what is wrong with it.</summary>
    public string? Problem()
    {
        string actual;
        try
        {
            actual = Hash(Path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot read data file {Path}: {e.Message}";
        }
        return actual == Sha256 ? null
            : $"data file {Path} changed since the sweep was submitted (SHA-256 {actual[..12]}…, recorded {Sha256[..12]}…)";
    }
}
