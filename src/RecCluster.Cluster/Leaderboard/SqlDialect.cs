using System.Text.RegularExpressions;

namespace RecCluster.Cluster.Leaderboard;

/// <summary>
/// What differs between the store's SQL on SQLite and on PostgreSQL; the rest is written once in SQL both accept
/// (INSERT ... ON CONFLICT, with the target table named in DO UPDATE, which PostgreSQL requires).
/// </summary>
internal sealed partial record SqlDialect(string Real, string Greatest, string Setup, string ColumnsOfTable, string ParameterPrefix)
{
    public static readonly SqlDialect Sqlite = new("REAL", "MAX", "PRAGMA journal_mode = WAL;",
        "SELECT name FROM pragma_table_info($table)", "$");

    // Npgsql binds @name (a bare $1 is positional there).
    public static readonly SqlDialect Postgres = new("DOUBLE PRECISION", "GREATEST", "",
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $table", "@");

    /// <summary>The store writes parameters as $name; this names them as the provider binds them.</summary>
    public string Parameters(string sql) => ParameterName().Replace(sql, m => ParameterPrefix + m.Groups[1].Value);

    [GeneratedRegex(@"\$([A-Za-z_]\w*)")]
    private static partial Regex ParameterName();
}
