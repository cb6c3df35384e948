using System.CommandLine;
using System.Globalization;
using System.Net;
using Akka.Remote;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Nodes;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Security;

namespace RecCluster.Cli;

/// <summary>
/// <c>reccluster node coordinator|worker</c>: a long-lived Akka.Cluster member. Every flag can also come from an environment
/// variable (for containers); a flag wins over its variable.
/// </summary>
public static class NodeCommand
{
    /// <summary>Exit code of a node that the split-brain resolver (or an operator) downed.</summary>
    public const int Downed = 3;

    private sealed record CommonOptions(
        Option<string?> Host, Option<int?> Port, Option<string?> Seeds, Option<FileInfo?> Config, Option<string[]> DataRoots,
        TlsOptions Tls);

    private sealed record TlsOptions(Option<FileInfo?> Certificate, Option<FileInfo?> PasswordFile, Option<FileInfo?> Authority)
    {
        public IEnumerable<Option> All => [Certificate, PasswordFile, Authority];
    }

    /// <summary>Data roots in the environment: folders separated by ':', as in PATH.</summary>
    private const string DataRootsVariable = "RECCLUSTER_DATA_ROOTS";

    public static Command Create()
    {
        var command = new Command("node", "Run a cluster node: the coordinator, or a worker offering trial slots. Prints JSON event lines " +
            "on stdout ({\"event\":\"up\",...} once Up, member-up/-unreachable/-removed, rejoining, stopped) and logs on stderr; " +
            $"SIGTERM or Ctrl+C leaves the cluster and exits 0; a downed node exits {Downed}.");
        command.Subcommands.Add(Coordinator());
        command.Subcommands.Add(Worker());
        return command;
    }

    private static Command Coordinator()
    {
        var state = new Option<DirectoryInfo?>("--state")
        {
            Description = "State folder of the coordinator (required; env RECCLUSTER_STATE).",
        };
        var http = new Option<string?>("--http")
        {
            Description = "Serve the HTTP API at ADDR:PORT, e.g. 127.0.0.1:5080 (env RECCLUSTER_HTTP; default: no API). " +
                "Off loopback it needs a token (--token-file) unless --insecure.",
        };
        var tokenFile = new Option<FileInfo?>("--token-file")
        {
            Description = $"File holding the HTTP API's bearer token, one line of at least {ApiToken.MinLength} characters (env " +
                $"{ApiToken.FileVariable}, or the token itself in {ApiToken.Variable}). Every /api request must send it.",
        };
        var insecure = new Option<bool>("--insecure")
        {
            Description = "Serve the HTTP API off loopback without a token: anyone who reaches the port can submit and cancel sweeps.",
        };
        var common = Common("4053, from cluster-config/coordinator.conf", "the coordinator itself",
            "Default: anywhere when the API is on loopback without a token (development), else the working directory.");
        var command = new Command("coordinator",
            "Run the coordinator node: the cluster's seed by default; it will host the sweep manager.");
        var store = StoreOption.Create();
        foreach (var option in (Option[])[state, store, http, tokenFile, insecure, common.Host, common.Port, common.Seeds, common.Config,
                     common.DataRoots, .. common.Tls.All])
            command.Options.Add(option);
        ApiEndpoint? api = null;
        command.SetAction(parse => Guarded(parse, () =>
        {
            if ((parse.GetValue(http) ?? Env("RECCLUSTER_HTTP")) is { } address)
                api = Api(address, Token(parse.GetValue(tokenFile)), parse.GetValue(insecure));
            else if (parse.GetValue(tokenFile) is not null || parse.GetValue(insecure))
                throw new UsageException("--token-file and --insecure are the HTTP API's: add --http ADDR:PORT (or RECCLUSTER_HTTP)");
            var folder = parse.GetValue(state)?.FullName ?? Env("RECCLUSTER_STATE")
                ?? throw new UsageException("the coordinator needs a state folder: --state DIR (or RECCLUSTER_STATE)");
            var settings = Settings(parse, common, NodeRole.Coordinator, slots: 0, gpus: 0, Path.GetFullPath(folder));
            // An API others can reach (a token, or an address off loopback) reads data under the working directory only by default.
            if (settings.DataRoots is null && api is not null && (api.Token is not null || !IPAddress.IsLoopback(api.Endpoint.Address)))
                settings = settings with { DataRoots = DataRoots.Of([Environment.CurrentDirectory], "--data-root") };
            // The leaderboard (the sweeps' one source of truth) in PostgreSQL lets a coordinator on another machine take over.
            return StoreOption.Location(parse, store, new DirectoryInfo(folder)) is StoreLocation.Postgres postgres
                ? settings with { Store = postgres } : settings;
        }, (stderr, settings) => stderr.WriteLine($"coordinator: state in {settings.Directory}" +
            (settings.Store is { } db ? $", leaderboard in {db}" : "")), () => api));
        return command;
    }

    /// <summary>Where the API listens and its token; an API reachable from other machines needs one unless insecure.</summary>
    private static ApiEndpoint Api(string address, ApiToken? token, bool insecure)
    {
        IPEndPoint endpoint;
        try
        {
            endpoint = CoordinatorApi.ParseEndpoint(address);
        }
        catch (FormatException e)
        {
            throw new UsageException($"--http: {e.Message}");
        }
        if (token is null && !insecure && !IPAddress.IsLoopback(endpoint.Address))
            throw new UsageException($"--http {address}: the API would be reachable from other machines without a token; give one " +
                $"(--token-file FILE, {ApiToken.FileVariable} or {ApiToken.Variable}) or pass --insecure to serve it open");
        return new ApiEndpoint(endpoint, token);
    }

    /// <summary>The API token: --token-file, else the file in RECCLUSTER_TOKEN_FILE, else RECCLUSTER_TOKEN; null if none.</summary>
    private static ApiToken? Token(FileInfo? file)
    {
        try
        {
            if (file is not null) return ApiToken.FromFile(file.FullName, "--token-file");
            if (Env(ApiToken.FileVariable) is { } path) return ApiToken.FromFile(path, ApiToken.FileVariable);
            return Env(ApiToken.Variable) is { } text ? ApiToken.Parse(text, ApiToken.Variable) : null;
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static Command Worker()
    {
        var slots = new Option<int?>("--slots")
        {
            Description = "Trial slots on this node (env RECCLUSTER_SLOTS; default: the GPU count, or the core count without GPUs).",
        };
        var gpus = new Option<int?>("--gpus")
        {
            Description = "GPUs on this node (env RECCLUSTER_GPUS; default: the CUDA build's device count, else nvidia-smi -L).",
        };
        var storage = new Option<DirectoryInfo?>("--storage")
        {
            Description = "Checkpoint storage, a folder all nodes share (env RECCLUSTER_STORAGE; default ./reccluster-storage).",
        };
        var simulate = new Option<int?>("--simulate-epoch-ms")
        {
            Description = "For benchmarks and demos: trials are simulated, nothing is trained; each runs its n_epochs, one every MS " +
                "milliseconds, with a score derived from its hyperparameters (env RECCLUSTER_SIMULATE_EPOCH_MS; default: real trials).",
        };
        slots.InRange(1, "--slots must be at least 1");
        simulate.InRange(0, "--simulate-epoch-ms must be 0 or more");
        gpus.InRange(0, "--gpus must be 0 or more");
        var common = Common("0 = any free port, from cluster-config/worker.conf", "required unless --config sets akka.cluster.seed-nodes",
            "Default: anywhere (the coordinator checks what it accepts).");
        var command = new Command("worker", "Run a worker node: joins the coordinator through the seeds and offers its slots.");
        foreach (var option in (Option[])[slots, gpus, storage, simulate, common.Host, common.Port, common.Seeds, common.Config,
                     common.DataRoots, .. common.Tls.All])
            command.Options.Add(option);
        string gpuSource = "";
        int? simulateMs = null;
        command.SetAction(parse => Guarded(parse, () =>
        {
            int? gpuCount = parse.GetValue(gpus) ?? Number("RECCLUSTER_GPUS", 0, int.MaxValue);
            if (gpuCount is null) (gpuCount, gpuSource) = GpuDetection.Detect();
            else gpuSource = "as given";
            int slotCount = parse.GetValue(slots) ?? Number("RECCLUSTER_SLOTS", 1, int.MaxValue)
                ?? (gpuCount > 0 ? gpuCount.Value : Environment.ProcessorCount);
            var folder = parse.GetValue(storage)?.FullName ?? Env("RECCLUSTER_STORAGE") ?? "reccluster-storage";
            simulateMs = parse.GetValue(simulate) ?? Number("RECCLUSTER_SIMULATE_EPOCH_MS", 0, int.MaxValue);
            return Settings(parse, common, NodeRole.Worker, slotCount, gpuCount.Value, Path.GetFullPath(folder));
        }, (stderr, settings) =>
        {
            stderr.WriteLine($"worker: {settings.Slots} slot(s), {settings.Gpus} GPU(s) ({gpuSource}), storage in {settings.Directory}");
            if (simulateMs is { } ms) stderr.WriteLine($"worker: SIMULATED trials, one epoch every {ms} ms; nothing is trained");
            if (settings.DataRoots is { } roots) stderr.WriteLine($"worker: trials may read data under {string.Join(", ", roots.Roots)}");
        }, launcher: () => simulateMs is { } ms ? SimulatedTrialPlan.Launcher(TimeSpan.FromMilliseconds(ms)) : null));
        return command;
    }

    private static CommonOptions Common(string portDefault, string seedsDefault, string dataRootsDefault)
    {
        var host = new Option<string?>("--host")
        {
            Description = "Address this node listens at and is reached at (env RECCLUSTER_HOST; default 127.0.0.1).",
        };
        var port = new Option<int?>("--port") { Description = $"Port (env RECCLUSTER_PORT; default {portDefault})." };
        var seeds = new Option<string?>("--seeds")
        {
            Description = $"Comma-separated seed addresses akka.tcp://reccluster@HOST:PORT (env RECCLUSTER_SEEDS; {seedsDefault}).",
        };
        var config = new Option<FileInfo?>("--config")
        {
            Description = "HOCON laid over the shipped cluster-config files (env RECCLUSTER_CONFIG).",
        };
        var dataRoots = new Option<string[]>("--data-root")
        {
            Description = $"A folder submitted sweeps may read data from; repeat for several (env {DataRootsVariable}, ':'-separated). " +
                dataRootsDefault,
            Arity = ArgumentArity.ZeroOrMore,
        };
        port.Validators.Add(r =>
        {
            try { if (r.GetValueOrDefault<int?>() is < 0 or > 65535) r.AddError("--port must be between 0 and 65535"); }
            catch (InvalidOperationException) { }   // unparsable: the parser has said so
        });
        var tls = new TlsOptions(
            new Option<FileInfo?>("--tls-cert")
            {
                Description = $"This node's certificate and key, PKCS#12 (env {NodeTls.CertVariable}); with --tls-ca, cluster traffic " +
                    "is mutual TLS and only nodes with a certificate from that CA can join. deploy/make-certs.sh makes them.",
            },
            new Option<FileInfo?>("--tls-password-file")
            {
                Description = $"File holding the PKCS#12 password (env {NodeTls.PasswordFileVariable}, or the password in " +
                    $"{NodeTls.PasswordVariable}; default: none).",
            },
            new Option<FileInfo?>("--tls-ca") { Description = $"The cluster CA's certificate, PEM (env {NodeTls.AuthorityVariable})." });
        return new CommonOptions(host, port, seeds, config, dataRoots, tls);
    }

    private static NodeSettings Settings(ParseResult parse, CommonOptions common, NodeRole role, int slots, int gpus, string folder)
    {
        var seeds = (parse.GetValue(common.Seeds) ?? Env("RECCLUSTER_SEEDS") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(NodeConfig.ParseSeed).ToList();
        var config = parse.GetValue(common.Config)?.FullName ?? Env("RECCLUSTER_CONFIG");
        if (config is not null && !File.Exists(config)) throw new UsageException($"--config: {config} does not exist");
        var roots = parse.GetValue(common.DataRoots) is { Length: > 0 } given ? Roots(given, "--data-root")
            : Env(DataRootsVariable) is { } listed ? Roots(listed.Split(':', StringSplitOptions.RemoveEmptyEntries), DataRootsVariable)
            : null;
        return new NodeSettings(role, parse.GetValue(common.Host) ?? Env("RECCLUSTER_HOST"),
            parse.GetValue(common.Port) ?? Number("RECCLUSTER_PORT", 0, 65535), seeds, slots, gpus, folder, config, DataRoots: roots,
            Tls: Tls(parse, common.Tls));
    }

    /// <summary>The node's TLS from flags, else environment variables: a certificate and a CA, or neither.</summary>
    private static NodeTls? Tls(ParseResult parse, TlsOptions options)
    {
        var certificate = parse.GetValue(options.Certificate)?.FullName ?? Env(NodeTls.CertVariable);
        var authority = parse.GetValue(options.Authority)?.FullName ?? Env(NodeTls.AuthorityVariable);
        var passwordFile = parse.GetValue(options.PasswordFile)?.FullName ?? Env(NodeTls.PasswordFileVariable);
        if (certificate is null && authority is null && passwordFile is null && Env(NodeTls.PasswordVariable) is null) return null;
        if (certificate is null || authority is null)
            throw new UsageException($"TLS needs both --tls-cert ({NodeTls.CertVariable}) and --tls-ca ({NodeTls.AuthorityVariable})");
        string? password = Env(NodeTls.PasswordVariable);
        if (passwordFile is not null)
        {
            try
            {
                password = File.ReadAllText(passwordFile).TrimEnd('\r', '\n');
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--tls-password-file {passwordFile}: {e.Message}");
            }
        }
        return NodeTls.Load(certificate, password, authority);
    }

    private static DataRoots Roots(IEnumerable<string> folders, string flag)
    {
        try
        {
            return DataRoots.Of(folders, flag);
        }
        catch (FormatException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>Resolves the settings, prints where things live, runs the node until it ends and maps how it ended.</summary>
    /// <param name="http">Where the HTTP API listens (resolved with the settings), or null.</param>
    /// <param name="launcher">What starts a worker's trials (resolved with the settings), or null for trial processes.</param>
    private static int Guarded(ParseResult parse, Func<NodeSettings> resolve, Action<TextWriter, NodeSettings> describe,
        Func<ApiEndpoint?>? http = null, Func<ITrialLauncher?>? launcher = null)
    {
        var (stdout, stderr) = (parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
        return Errors.Guard(stderr, () =>
        {
            NodeSettings settings;
            NodeConfig config;
            try
            {
                settings = resolve();
                config = NodeConfig.Load(settings, NodeConfig.ShippedFolder);
            }
            catch (NodeConfigException e)
            {
                throw new UsageException(e.Message);
            }
            Directory.CreateDirectory(settings.Directory);
            describe(stderr, settings);
            stderr.WriteLine(config.Tls is { } tls
                ? $"cluster traffic: mutual TLS as '{tls.Certificate.Subject}', peers must be signed by '{tls.Authority.Subject}'"
                : "cluster traffic: plain TCP, unauthenticated (no --tls-cert): any host that reaches the port can join");
            return Run(settings, config, http?.Invoke(), launcher?.Invoke(), stdout, stderr);
        });
    }

    private static int Run(NodeSettings settings, NodeConfig config, ApiEndpoint? http, ITrialLauncher? launcher, TextWriter stdout,
        TextWriter stderr)
    {
        var api = http is null ? null : StartApi(http, settings.DataRoots, stderr);
        try
        {
            return Run(settings, config, api, launcher, stdout, stderr);
        }
        finally
        {
            api?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Listens before the node starts (a port in use fails at once); requests are answered 503 until the node is Up.</summary>
    private static CoordinatorApi StartApi(ApiEndpoint http, DataRoots? roots, TextWriter stderr)
    {
        CoordinatorApi api;
        try
        {
            api = CoordinatorApi.StartAsync(http.Endpoint, log: stderr, token: http.Token, dataRoots: roots).GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"--http: cannot listen at {http.Endpoint}: {e.Message}");
        }
        stderr.WriteLine($"coordinator: HTTP API at {api.Address}" + (http.Token is null ? " (no token: open to anyone who reaches it)"
            : " (bearer token required under /api)"));
        stderr.WriteLine(roots is { Confined: true } ? $"coordinator: sweeps may read data under {string.Join(", ", roots.Roots)}"
            : "coordinator: sweeps may read data anywhere (no --data-root)");
        return api;
    }

    private static int Run(NodeSettings settings, NodeConfig config, CoordinatorApi? api, ITrialLauncher? launcher, TextWriter stdout,
        TextWriter stderr)
    {
        // Not disposed: a signal's handler can still run after the node ended (the runtime's own SIGTERM handling may stop the
        // actor system first), and cancelling a disposed source would crash the exit.
        var stop = new CancellationTokenSource();
        // The node leaves the cluster first, then the process exits by itself.
        using var signals = StopSignals.Register(signal =>
        {
            if (stop.IsCancellationRequested) return;
            stderr.WriteLine($"{signal}: leaving the cluster");
            stop.Cancel();
        });

        NodeOutcome outcome;
        try
        {
            var host = new NodeHost(settings, config, new NodeEventWriter(stdout), stderr, launcher) { OnManagerUp = api is null ? null : api.Attach };
            outcome = host.RunAsync(stop.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when (TransportFailure(e) is { } failed)
        {
            // Akka wraps a failed bind in several AggregateExceptions; the socket's own words are the useful part.
            stderr.WriteLine($"error: cannot listen for cluster traffic: {failed.InnerException?.Message ?? failed.Message} " +
                "(is the port in use? --port 0 picks a free one)");
            return Errors.Failed;
        }
        switch (outcome)
        {
            case NodeOutcome.Stopped:
                stderr.WriteLine("left the cluster");
                return Errors.Ok;
            case NodeOutcome.Left:
                stderr.WriteLine("left the cluster at another member's request");
                return Errors.Ok;
            case NodeOutcome.Downed:
                stderr.WriteLine("error: this node was downed and removed from the cluster (by the split-brain resolver: it was on the " +
                    "losing side of a partition or unreachable too long; or by an operator). Restart it to join again.");
                return Downed;
            case NodeOutcome.TlsRefused:
                stderr.WriteLine("error: a TLS handshake with the cluster failed: this node and its peer do not accept each other's " +
                    "certificates (both must be signed by the same cluster CA, --tls-ca; see the log above)");
                return Errors.Failed;
            default:
                stderr.WriteLine("error: the node's actor system stopped unexpectedly (see the log above)");
                return Errors.Failed;
        }
    }

    private sealed record ApiEndpoint(IPEndPoint Endpoint, ApiToken? Token);

    private static RemoteTransportException? TransportFailure(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is RemoteTransportException failed) return failed;
        return null;
    }

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static int? Number(string name, int min, int max)
    {
        if (Env(name) is not { } text) return null;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        throw new UsageException($"{name}={text}: expected a whole number from {min} to {max}");
    }
}
