using System.Text.Json.Nodes;
using System.Text.Json;
using System.Data.Common;
using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Leaderboard;

/// <param name="Node">The node of the latest attempt (null until one started).</param>
/// <param name="Started">When the latest attempt started (UTC, ISO 8601), null until one started.</param>
public sealed record StoredTrial(string SweepId, int Index, string Model, IReadOnlyDictionary<string, ParamValue> Params, string Status,
    int Attempts, int? BestEpoch, int? EpochsRun, double? Objective, double? Seconds, string? Note, string? Node = null, string? Started = null);

public sealed record LeaderboardRow(StoredTrial Trial, IReadOnlyDictionary<string, double> Valid, IReadOnlyDictionary<string, double> Test);

public sealed record EpochRow(int Attempt, int Epoch, double? Loss, IReadOnlyDictionary<string, double> Valid, string? Node = null);

public sealed record GroupRow(string Value, int Trials, double Mean, double Std);

public sealed record SweepRow(string Id, string Name, string ConfigPath, string ObjectiveMetric, bool Maximize, string Created);

/// <summary>A sweep that has not ended (finished or cancelled): its text and data as submitted.</summary>
public sealed record UnfinishedSweep(string Id, SweepSource Source, IReadOnlyList<DataFile> Data);

/// <summary>
/// SQL persistence of sweeps, trials and every reported metric (trial, attempt, epoch, split, name, value), on SQLite or
/// PostgreSQL (see <see cref="StoreLocation"/>). Metric rows are keyed so that a re-delivered report is stored once.
/// </summary>
public sealed class LeaderboardStore : IDisposable
{
    public const string FileName = "leaderboard.sqlite";
    private readonly DbConnection _db;
    private readonly SqlDialect _dialect;

    public LeaderboardStore(string stateDirectory, bool readOnly = false) : this(new StoreLocation.StateDirectory(stateDirectory), readOnly)
    {
    }

    public LeaderboardStore(StoreLocation location, bool readOnly = false)
    {
        (_db, _dialect) = location switch
        {
            StoreLocation.StateDirectory directory => (OpenSqlite(directory, readOnly), SqlDialect.Sqlite),
            StoreLocation.Postgres postgres => ((DbConnection)new NpgsqlConnection(postgres.ConnectionString), SqlDialect.Postgres),
            _ => throw new UnreachableException(),
        };
        _db.Open();
        if (readOnly)
        {
            if (!ColumnsOf("sweeps").Any())
                throw new InvalidOperationException($"no leaderboard in {location}; run reccluster sweep on it first");
            return;
        }
        Execute($"""
            {_dialect.Setup}
            CREATE TABLE IF NOT EXISTS sweeps (id TEXT PRIMARY KEY, name TEXT NOT NULL, config TEXT NOT NULL, objective TEXT NOT NULL, maximize INTEGER NOT NULL,
              created TEXT NOT NULL, config_text TEXT, data_files TEXT);
            CREATE TABLE IF NOT EXISTS trials (sweep TEXT NOT NULL, idx INTEGER NOT NULL, model TEXT NOT NULL, params TEXT NOT NULL, status TEXT NOT NULL,
              attempts INTEGER NOT NULL, best_epoch INTEGER, epochs_run INTEGER, objective {_dialect.Real}, seconds {_dialect.Real},
              note TEXT, PRIMARY KEY (sweep, idx));
            CREATE TABLE IF NOT EXISTS metrics (sweep TEXT NOT NULL, idx INTEGER NOT NULL, attempt INTEGER NOT NULL, epoch INTEGER NOT NULL,
              split TEXT NOT NULL, name TEXT NOT NULL, value {_dialect.Real} NOT NULL, PRIMARY KEY (sweep, idx, attempt, epoch, split, name));
            CREATE TABLE IF NOT EXISTS attempts (sweep TEXT NOT NULL, idx INTEGER NOT NULL, attempt INTEGER NOT NULL, node TEXT NOT NULL,
              started TEXT NOT NULL, PRIMARY KEY (sweep, idx, attempt));
            """);
        // Stores made by earlier versions gain the columns (empty for their sweeps and trials). A sweep's state is null
        // while it has not ended: a coordinator that starts again resumes those.
        foreach (var column in new[] { "config_text", "data_files", "state" }.Except(ColumnsOf("sweeps")))
            Execute($"ALTER TABLE sweeps ADD COLUMN {column} TEXT");
        if (!ColumnsOf("trials").Contains("node")) Execute("ALTER TABLE trials ADD COLUMN node TEXT");
    }

    private static SqliteConnection OpenSqlite(StoreLocation.StateDirectory directory, bool readOnly)
    {
        if (readOnly && !File.Exists(directory.File))
            throw new FileNotFoundException(
                $"no leaderboard in {directory.Path} (expected {FileName}); run reccluster sweep with --state {directory.Path} first");
        if (!readOnly) Directory.CreateDirectory(directory.Path);
        return new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = directory.File, Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
        }.ToString());
    }

    private List<string> ColumnsOf(string table) => Query(_dialect.ColumnsOfTable, r => r.GetString(0), ("$table", table));

    public void Dispose() => _db.Dispose();

    /// <summary>
    /// Records a submitted sweep with its text and data files' hashes, unless it is already there (then it is active again:
    /// submitting an ended sweep resumes it); returns the data
    /// files as first recorded, which every attempt is checked against.
    /// </summary>
    public IReadOnlyList<DataFile> EnsureSweep(string id, string name, SweepSource source, Objective objective, IReadOnlyList<DataFile> data)
    {
        Execute("""
            INSERT INTO sweeps (id, name, config, objective, maximize, created, config_text, data_files)
              VALUES ($id, $name, $config, $objective, $max, $created, $text, $data)
            ON CONFLICT (id) DO UPDATE
              SET config_text = COALESCE(sweeps.config_text, $text), data_files = COALESCE(sweeps.data_files, $data), state = NULL
            """, ("$id", id), ("$name", name), ("$config", source.Path), ("$objective", objective.Metric),
            ("$max", objective.Maximize ? 1 : 0), ("$created", DateTime.UtcNow.ToString("O")), ("$text", source.Text),
            ("$data", JsonSerializer.Serialize(data, TrialCodec.Json)));
        return Query("SELECT data_files FROM sweeps WHERE id = $id",
            r => JsonSerializer.Deserialize<List<DataFile>>(r.GetString(0), TrialCodec.Json)!, ("$id", id)).Single();
    }

    /// <param name="node">The node the attempt runs on, when it starts there (or is taken over there).</param>
    public void RecordTrial(string sweep, int index, string model, IReadOnlyDictionary<string, ParamValue> values, string status, int attempt,
        string? note, string? node = null)
    {
        using var tx = _db.BeginTransaction();
        Execute($"""
            INSERT INTO trials (sweep, idx, model, params, status, attempts, note) VALUES ($s, $i, $m, $p, $st, $a, $n)
            ON CONFLICT (sweep, idx) DO UPDATE
              SET status = $st, attempts = {_dialect.Greatest}(trials.attempts, $a), note = COALESCE($n, trials.note)
            """, ("$s", sweep), ("$i", index), ("$m", model), ("$p", TrialCodec.Params(values).ToJsonString()), ("$st", status),
            ("$a", attempt), ("$n", note));
        if (node is not null)
        {
            // A takeover keeps the attempt's start time and records where it runs now.
            Execute("INSERT INTO attempts VALUES ($s, $i, $a, $node, $at) ON CONFLICT (sweep, idx, attempt) DO UPDATE SET node = $node",
                ("$s", sweep), ("$i", index), ("$a", attempt), ("$node", node), ("$at", DateTime.UtcNow.ToString("O")));
            Execute("UPDATE trials SET node = $node WHERE sweep = $s AND idx = $i AND attempts = $a",
                ("$s", sweep), ("$i", index), ("$a", attempt), ("$node", node));
        }
        tx.Commit();
    }

    /// <summary>Records that a sweep ended (finished or cancelled): a coordinator starting again does not resume it.</summary>
    public void RecordSweepEnded(string sweep, string state) =>
        Execute("UPDATE sweeps SET state = $st WHERE id = $id", ("$st", state), ("$id", sweep));

    /// <summary>Sweeps that were submitted with their text and have not ended, oldest first.</summary>
    public IReadOnlyList<UnfinishedSweep> UnfinishedSweeps() => Query(
        "SELECT id, config, config_text, data_files FROM sweeps WHERE state IS NULL AND config_text IS NOT NULL ORDER BY created",
        r => new UnfinishedSweep(r.GetString(0), new SweepSource(r.GetString(1), r.GetString(2)),
            JsonSerializer.Deserialize<List<DataFile>>(r.GetString(3), TrialCodec.Json)!));

    /// <summary>Stores an epoch's loss and validation metrics; returns false when it was already stored.</summary>
    public bool RecordEpoch(string sweep, int index, int attempt, TrialEpoch epoch)
    {
        using var tx = _db.BeginTransaction();
        int added = InsertMetric(sweep, index, attempt, epoch.Epoch, "train", "loss", epoch.Loss);
        foreach (var (name, value) in epoch.Valid ?? new Dictionary<string, double>())
            added += InsertMetric(sweep, index, attempt, epoch.Epoch, "valid", name, value);
        tx.Commit();
        return added > 0;
    }

    public void RecordResult(string sweep, int index, int attempt, string status, TrialFinished result, double? objective)
    {
        using var tx = _db.BeginTransaction();
        foreach (var (name, value) in result.Valid) InsertMetric(sweep, index, attempt, result.BestEpoch, "final_valid", name, value);
        foreach (var (name, value) in result.Test) InsertMetric(sweep, index, attempt, result.BestEpoch, "test", name, value);
        Execute("UPDATE trials SET status = $st, best_epoch = $b, epochs_run = $e, objective = $o, seconds = $sec WHERE sweep = $s AND idx = $i",
            ("$st", status), ("$b", result.BestEpoch), ("$e", result.EpochsRun), ("$o", objective), ("$sec", result.Seconds), ("$s", sweep), ("$i", index));
        tx.Commit();
    }

    private int InsertMetric(string sweep, int index, int attempt, int epoch, string split, string name, double value) =>
        Execute("INSERT INTO metrics VALUES ($s, $i, $a, $e, $sp, $n, $v) ON CONFLICT DO NOTHING",
            ("$s", sweep), ("$i", index), ("$a", attempt), ("$e", epoch), ("$sp", split), ("$n", name), ("$v", value));

    public IReadOnlyList<SweepRow> Sweeps() => Query("SELECT id, name, config, objective, maximize, created FROM sweeps ORDER BY created",
        r => new SweepRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4) == 1, r.GetString(5)));

    public IReadOnlyList<StoredTrial> Trials(string sweep) => Query(
        """
        SELECT t.sweep, t.idx, t.model, t.params, t.status, t.attempts, t.best_epoch, t.epochs_run, t.objective, t.seconds, t.note, t.node,
          a.started
        FROM trials t LEFT JOIN attempts a ON a.sweep = t.sweep AND a.idx = t.idx AND a.attempt = t.attempts
        WHERE t.sweep = $s ORDER BY t.idx
        """,
        r => new StoredTrial(r.GetString(0), r.GetInt32(1), r.GetString(2), TrialCodec.ParseParams(r.GetString(2), JsonNode.Parse(r.GetString(3))!.AsObject()),
            r.GetString(4), r.GetInt32(5), Nullable<int>(r, 6), Nullable<int>(r, 7), Nullable<double>(r, 8), Nullable<double>(r, 9), Text(r, 10), Text(r, 11), Text(r, 12)),
        ("$s", sweep));

    /// <summary>Finished trials ordered by a metric ("ndcg@10" is validation at the best epoch, "test:ndcg@10" test).</summary>
    public IReadOnlyList<LeaderboardRow> Top(string sweep, string metric, bool maximize, int k)
    {
        var (split, name) = metric.StartsWith("test:") ? ("test", metric[5..]) : ("final_valid", metric);
        var trials = Trials(sweep).Where(t => t.BestEpoch is not null).ToDictionary(t => t.Index);
        var finals = FinalMetrics(sweep);
        var rows = trials.Values.Select(t => new LeaderboardRow(t,
                finals.GetValueOrDefault((t.Index, "final_valid")) ?? new Dictionary<string, double>(),
                finals.GetValueOrDefault((t.Index, "test")) ?? new Dictionary<string, double>()))
            .Where(r => (split == "test" ? r.Test : r.Valid).ContainsKey(name));
        double Key(LeaderboardRow r) => (split == "test" ? r.Test : r.Valid)[name];
        return [.. (maximize ? rows.OrderByDescending(Key) : rows.OrderBy(Key)).ThenBy(r => r.Trial.Index).Take(k)];
    }

    private Dictionary<(int, string), Dictionary<string, double>> FinalMetrics(string sweep)
    {
        // The final metrics of each trial's latest attempt that produced any.
        var result = new Dictionary<(int, string), Dictionary<string, double>>();
        var latest = new Dictionary<int, int>();
        foreach (var (idx, attempt, split, name, value) in Query("""
            SELECT idx, attempt, split, name, value FROM metrics WHERE sweep = $s AND split IN ('final_valid', 'test') ORDER BY idx, attempt
            """, r => (r.GetInt32(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetDouble(4)), ("$s", sweep)))
        {
            if (latest.TryGetValue(idx, out var a) && a != attempt) { result.Remove((idx, "final_valid")); result.Remove((idx, "test")); }
            latest[idx] = attempt;
            if (!result.TryGetValue((idx, split), out var m)) result[(idx, split)] = m = [];
            m[name] = value;
        }
        return result;
    }

    public IReadOnlyList<EpochRow> History(string sweep, int index)
    {
        var rows = Query("SELECT attempt, epoch, split, name, value FROM metrics WHERE sweep = $s AND idx = $i AND split IN ('train', 'valid') ORDER BY attempt, epoch",
            r => (r.GetInt32(0), r.GetInt32(1), r.GetString(2), r.GetString(3), r.GetDouble(4)), ("$s", sweep), ("$i", index));
        var nodes = Query("SELECT attempt, node FROM attempts WHERE sweep = $s AND idx = $i", r => (r.GetInt32(0), r.GetString(1)),
            ("$s", sweep), ("$i", index)).ToDictionary(r => r.Item1, r => r.Item2);
        return [.. rows.GroupBy(r => (r.Item1, r.Item2)).Select(g => new EpochRow(g.Key.Item1, g.Key.Item2,
            g.Where(r => r.Item3 == "train").Select(r => (double?)r.Item5).FirstOrDefault(),
            g.Where(r => r.Item3 == "valid").ToDictionary(r => r.Item4, r => r.Item5), nodes.GetValueOrDefault(g.Key.Item1)))];
    }

    /// <summary>Trials grouped by one hyperparameter's value: mean ± sample std of a final metric.</summary>
    public IReadOnlyList<GroupRow> GroupBy(string sweep, string param, string metric)
    {
        var rows = Top(sweep, metric, true, int.MaxValue);
        var (useTest, name) = metric.StartsWith("test:") ? (true, metric[5..]) : (false, metric);
        return [.. rows.GroupBy(r => r.Trial.Params.TryGetValue(param, out var v) ? v.ToString() : "(default)")
            .Select(g =>
            {
                var values = g.Select(r => (useTest ? r.Test : r.Valid)[name]).ToList();
                double mean = values.Average();
                double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
                return new GroupRow(g.Key, values.Count, mean, std);
            })
            .OrderBy(r => r.Value, StringComparer.Ordinal)];
    }

    /// <summary>Training epochs run across all trials and attempts, counted from the stored losses.</summary>
    public long TotalEpochs(string sweep) =>
        Query("SELECT COUNT(*) FROM metrics WHERE sweep = $s AND split = 'train' AND name = 'loss'", r => r.GetInt64(0), ("$s", sweep)).Single();

    /// <summary>
    /// Every recorded sweep as the store alone tells it, oldest first, for a reader without a sweep manager (the local
    /// dashboard): the state recorded when it ended, else running once a trial was recorded (queued before); the trials counted
    /// are those recorded so far.
    /// </summary>
    public IReadOnlyList<SweepStatus> Statuses() => [.. Query("SELECT id, state FROM sweeps ORDER BY created",
        r => (Id: r.GetString(0), State: Text(r, 1))).Select(s =>
        {
            var trials = Trials(s.Id);
            int Count(string status) => trials.Count(t => t.Status == status);
            // The store records only the end (finished, cancelled); before it a sweep runs once it has a trial.
            var state = Enum.TryParse<SweepState>(s.State, ignoreCase: true, out var stored)
                && stored is SweepState.Finished or SweepState.Cancelled ? stored
                : trials.Count > 0 ? SweepState.Running : SweepState.Queued;
            return new SweepStatus(new SweepSummary(s.Id, trials.Count, Count(TrialStatus.Completed), Count(TrialStatus.Pruned),
                Count(TrialStatus.Failed), Count(TrialStatus.Interrupted), TotalEpochs(s.Id)), state);
        })];

    public long MetricRows(string sweep) => Query("SELECT COUNT(*) FROM metrics WHERE sweep = $s", r => r.GetInt64(0), ("$s", sweep)).Single();

    private static T? Nullable<T>(DbDataReader r, int i) where T : struct => r.IsDBNull(i) ? null : r.GetFieldValue<T>(i);

    private static string? Text(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteNonQuery();
    }

    private List<T> Query<T>(string sql, Func<DbDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var result = new List<T>();
        while (reader.Read()) result.Add(read(reader));
        return result;
    }

    private DbCommand Command(string sql, (string Name, object? Value)[] parameters)
    {
        var command = _db.CreateCommand();
        command.CommandText = _dialect.Parameters(sql);
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = _dialect.Parameters(name);
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }
}
