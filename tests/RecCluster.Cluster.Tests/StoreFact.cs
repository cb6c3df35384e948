using Npgsql;
using RecCluster.Cluster.Leaderboard;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace RecCluster.Cluster.Tests;

/// <summary>Marks a test class whose tests need the PostgreSQL server that .ci/run starts.</summary>
public interface INeedPostgres;

/// <summary>
/// A fact that, in a class needing PostgreSQL while <see cref="PostgresServer.Variable"/> is unset, is reported as skipped on a
/// developer's machine and fails under CI (CI=true): a missing server never passes silently.
/// </summary>
[XunitTestCaseDiscoverer("RecCluster.Cluster.Tests.StoreFactDiscoverer", "RecCluster.Cluster.Tests")]
public sealed class StoreFactAttribute : FactAttribute;

public sealed class StoreFactDiscoverer(IMessageSink diagnostics) : IXunitTestCaseDiscoverer
{
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions options, ITestMethod method, IAttributeInfo fact)
    {
        var (display, displayOptions) = (options.MethodDisplayOrDefault(), options.MethodDisplayOptionsOrDefault());
        if (!typeof(INeedPostgres).IsAssignableFrom(method.TestClass.Class.ToRuntimeType()) || PostgresServer.Available)
            return [new XunitTestCase(diagnostics, display, displayOptions, method)];
        return PostgresServer.Required
            ? [new ExecutionErrorTestCase(diagnostics, display, displayOptions, method, PostgresServer.Missing)]
            : [new NoPostgresTestCase(diagnostics, display, displayOptions, method)];
    }
}

/// <summary>A test case skipped for want of a PostgreSQL server (xunit 2 takes a skip reason only from the attribute).</summary>
public sealed class NoPostgresTestCase : XunitTestCase
{
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public NoPostgresTestCase() { }

    public NoPostgresTestCase(IMessageSink diagnostics, TestMethodDisplay display, TestMethodDisplayOptions options, ITestMethod method)
        : base(diagnostics, display, options, method) { }

    protected override string GetSkipReason(IAttributeInfo factAttribute) => PostgresServer.Missing;
}

/// <summary>The test server's database, named by RECCLUSTER_TEST_POSTGRES (a connection string, as --store takes).</summary>
public static class PostgresServer
{
    public const string Variable = "RECCLUSTER_TEST_POSTGRES";
    private static readonly string? Connection = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    public static bool Available => Connection is not null;
    public static bool Required => Environment.GetEnvironmentVariable("CI") == "true";
    public static string Missing => $"{Variable} is not set: run the tests through .ci/run, which starts a PostgreSQL server, or set it "
        + "to a database you own (postgres://user:password@127.0.0.1:5432/db)";

    /// <summary>A fresh schema in the test database, dropped on dispose: each test starts empty and leaves nothing behind.</summary>
    public sealed class Schema : IDisposable
    {
        private readonly string _name = "test_" + Guid.NewGuid().ToString("N");
        private readonly string _server =
            new StoreLocation.Postgres(Connection ?? throw new InvalidOperationException(Missing)).ConnectionString;

        public Schema()
        {
            Run($"CREATE SCHEMA {_name}");
            Location = new StoreLocation.Postgres(new NpgsqlConnectionStringBuilder(_server) { SearchPath = _name }.ConnectionString);
        }

        public StoreLocation.Postgres Location { get; }

        public void Dispose() => Run($"DROP SCHEMA {_name} CASCADE");

        private void Run(string sql)
        {
            using var connection = new NpgsqlConnection(_server);
            connection.Open();
            using var command = new NpgsqlCommand(sql, connection);
            command.ExecuteNonQuery();
        }
    }
}
