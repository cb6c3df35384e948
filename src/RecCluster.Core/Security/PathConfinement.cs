namespace RecCluster.Core.Security;

/// <summary>
/// Where a path really leads: every symbolic link followed, <c>..</c> applied after the link it follows (as the kernel does),
/// so a path that looks inside a folder but leads out of it is seen for what it is.
/// </summary>
public static class PathConfinement
{
    /// <summary>Links followed before giving up, as Linux's ELOOP (40).</summary>
    public const int MaxLinks = 40;

    /// <summary>
    /// The absolute path with every link resolved; parts that do not exist (yet) are kept as written.
    /// A relative <paramref name="path"/> is taken from the working directory.
    /// </summary>
    /// <exception cref="IOException">A loop of links.</exception>
    public static string RealPath(string path)
    {
        // Not Path.GetFullPath: it would apply '..' before the links it follows are resolved.
        var full = Path.IsPathRooted(path) ? path : Path.Combine(Environment.CurrentDirectory, path);
        var root = Path.GetPathRoot(full)!;
        var resolved = new List<string>();
        var pending = new LinkedList<string>(Parts(full[root.Length..]));
        int links = 0;
        while (pending.First is { } first)
        {
            pending.RemoveFirst();
            var part = first.Value;
            if (part == ".") continue;
            if (part == "..")
            {
                if (resolved.Count > 0) resolved.RemoveAt(resolved.Count - 1);
                continue;
            }
            var candidate = Path.Combine(root, Path.Combine([.. resolved, part]));
            if (LinkTarget(candidate) is not { } target)
            {
                resolved.Add(part);
                continue;
            }
            if (++links > MaxLinks) throw new IOException($"{path}: too many levels of symbolic links");
            // The target's parts come next; an absolute target starts again from the root.
            if (Path.IsPathRooted(target)) resolved.Clear();
            foreach (var p in Parts(target).Reverse()) pending.AddFirst(p);
        }
        return Path.Combine(root, Path.Combine([.. resolved]));
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or lies under it (both taken as they are).</summary>
    public static bool IsWithin(string root, string path)
    {
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path == root || path.StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>
    /// <paramref name="relative"/> joined to <paramref name="folder"/>, refused unless it stays inside it even after links:
    /// the guard on every path built from a name that came from outside (a sweep's name, say).
    /// </summary>
    /// <exception cref="ArgumentException">The joined path leads outside the folder.</exception>
    public static string Inside(string folder, string relative)
    {
        var joined = Path.GetFullPath(Path.Combine(folder, relative));
        if (Path.IsPathRooted(relative) || !IsWithin(RealPath(folder), RealPath(joined)))
            throw new ArgumentException($"'{relative}' leads outside {folder}");
        return joined;
    }

    private static string[] Parts(string path) => path.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);

    private static string? LinkTarget(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;   // unreadable: the open that follows reports it
        }
    }
}

/// <summary>
/// The folders a submitted sweep may read data from (<c>--data-root</c>). <see cref="Anywhere"/> confines nothing: a
/// coordinator whose API has no token (loopback development) or a worker given no roots.
/// </summary>
public sealed class DataRoots
{
    public static readonly DataRoots Anywhere = new([]);

    private DataRoots(IReadOnlyList<string> roots) => Roots = roots;

    /// <summary>The roots with their links resolved; empty: anywhere.</summary>
    public IReadOnlyList<string> Roots { get; }

    public bool Confined => Roots.Count > 0;

    /// <summary>Roots from folders that must exist.</summary>
    /// <exception cref="FormatException">A folder that does not exist, named with <paramref name="flag"/>.</exception>
    public static DataRoots Of(IEnumerable<string> folders, string flag)
    {
        var roots = new List<string>();
        foreach (var folder in folders)
        {
            var real = PathConfinement.RealPath(folder);
            if (!Directory.Exists(real)) throw new FormatException($"{flag} {folder}: no such folder");
            roots.Add(real);
        }
        return roots.Count == 0 ? Anywhere : new DataRoots(roots);
    }

    /// <summary>Null when <paramref name="path"/> may be read; otherwise why not, naming the path and where it leads.</summary>
    public string? Refusal(string path)
    {
        if (!Confined) return null;
        string real;
        try
        {
            real = PathConfinement.RealPath(path);
        }
        catch (IOException e)
        {
            return e.Message;
        }
        if (Roots.Any(root => PathConfinement.IsWithin(root, real))) return null;
        var leads = real == Path.GetFullPath(path) ? "" : $" (it leads to {real})";
        return $"{path}{leads} is outside the data roots ({string.Join(", ", Roots)})";
    }
}
