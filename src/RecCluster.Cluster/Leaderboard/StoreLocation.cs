using Npgsql;

namespace RecCluster.Cluster.Leaderboard;

/// <summary>
/// Where the leaderboard lives: a state directory (the SQLite file <see cref="LeaderboardStore.FileName"/> inside it), or a
/// PostgreSQL database that a coordinator failing over between machines reaches from each of them. The rule is by flag, never
/// by guessing from the text: the CLI's --state names a directory, --store (RECCLUSTER_STORE) a PostgreSQL connection string.
/// </summary>
public abstract record StoreLocation
{
    private StoreLocation() { }

    public sealed record StateDirectory(string Path) : StoreLocation
    {
        public string File => System.IO.Path.Combine(Path, LeaderboardStore.FileName);
        public override string ToString() => Path;
    }

    /// <summary>
    /// A PostgreSQL database, given as a URI (postgres://user:password@host:port/database?key=value, also postgresql://) or in
    /// Npgsql's keyword form (Host=...;Port=...;Database=...;Username=...;Password=...); kept in the keyword form.
    /// </summary>
    public sealed record Postgres : StoreLocation
    {
        public Postgres(string connection)
        {
            var builder = Parse(connection);
            if (string.IsNullOrEmpty(builder.Host) || string.IsNullOrEmpty(builder.Database))
                throw new ArgumentException("a PostgreSQL connection string names a host and a database, e.g. postgres://user@host/db");
            ConnectionString = builder.ConnectionString;
            Description = $"PostgreSQL database {builder.Database} on {builder.Host}:{builder.Port}";
        }

        public string ConnectionString { get; }

        /// <summary>Host, port and database, without the password: for messages.</summary>
        public string Description { get; }

        public override string ToString() => Description;

        private static NpgsqlConnectionStringBuilder Parse(string connection)
        {
            if (!connection.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
                && !connection.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
            {
                try { return new NpgsqlConnectionStringBuilder(connection); }
                catch (ArgumentException e) { throw new ArgumentException($"not a PostgreSQL connection string ({e.Message})", e); }
            }
            // Npgsql reads only the keyword form; the URI's parts map onto it one by one.
            Uri uri;
            try { uri = new Uri(connection); }
            catch (UriFormatException e) { throw new ArgumentException($"not a PostgreSQL address ({e.Message})", e); }
            var builder = new NpgsqlConnectionStringBuilder
            {
                Host = uri.Host, Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')),
            };
            if (uri.Port > 0) builder.Port = uri.Port;
            if (uri.UserInfo.Split(':', 2) is [var user, .. var password] && user.Length > 0)
            {
                builder.Username = Uri.UnescapeDataString(user);
                if (password is [var secret]) builder.Password = Uri.UnescapeDataString(secret);
            }
            foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var (key, value) = pair.Split('=', 2) is [var k, var v] ? (k, v) : (pair, "");
                builder[Uri.UnescapeDataString(key)] = Uri.UnescapeDataString(value);
            }
            return builder;
        }
    }
}
