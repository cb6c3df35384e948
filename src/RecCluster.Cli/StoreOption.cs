using System.CommandLine;
using RecCluster.Cluster.Leaderboard;

namespace RecCluster.Cli;

/// <summary>
/// --store CONNECTION (env RECCLUSTER_STORE): the leaderboard in a PostgreSQL database instead of the SQLite file in --state,
/// which keeps meaning a directory.
/// </summary>
public static class StoreOption
{
    public const string Variable = "RECCLUSTER_STORE";

    public static Option<string?> Create() => new("--store")
    {
        Description = "PostgreSQL database for the leaderboard instead of the state folder's SQLite file: "
            + $"postgres://user:password@host:port/db or Host=...;Database=... (env {Variable}).",
    };

    public static StoreLocation Location(ParseResult parse, Option<string?> store, DirectoryInfo state)
    {
        var connection = parse.GetValue(store) ?? (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null);
        if (connection is null) return new StoreLocation.StateDirectory(state.FullName);
        try { return new StoreLocation.Postgres(connection); }
        catch (ArgumentException e) { throw new UsageException($"--store: {e.Message}"); }
    }
}
