using System.CommandLine;
using System.Net;
using Akka.Actor;
using RecCluster.Api;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Sweeps;

namespace RecCluster.Cli;

/// <summary>
/// <c>reccluster dashboard --state DIR</c>: the web dashboard over a local state folder (or --store), read-only, until Ctrl+C or
/// SIGTERM. The same server as a coordinator's API (<see cref="CoordinatorApi"/>) over a <see cref="StoreReader"/> instead of a
/// sweep manager; it can run beside a <c>reccluster sweep</c> writing the same folder.
/// </summary>
public static class DashboardCommand
{
    public const int DefaultPort = 5080;

    public static Command Create()
    {
        var state = new Option<DirectoryInfo>("--state")
        {
            Description = "State folder whose leaderboard to show (the one given to reccluster sweep --state).",
            DefaultValueFactory = _ => new DirectoryInfo("reccluster-state"),
        };
        var store = StoreOption.Create();
        var port = PortOption();
        var command = new Command("dashboard", "Serve the web dashboard (sweeps, leaderboards, learning curves, live updates) over a " +
            $"local state folder at http://127.0.0.1:PORT/, read-only, until Ctrl+C.");
        foreach (var option in new Option[] { state, store, port }) command.Options.Add(option);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var folder = parse.GetValue(state)!;
            var location = StoreOption.Location(parse, store, folder);
            if (location is StoreLocation.StateDirectory dir && !File.Exists(dir.File))
                throw new UsageException($"--state: no leaderboard in {folder.FullName} (expected {LeaderboardStore.FileName}); " +
                    "run reccluster sweep with this --state first");
            // Opened once here so that an unreadable store is reported at once; the reader actor then owns its connection.
            new LeaderboardStore(location, readOnly: true).Dispose();
            using var system = ActorSystem.Create("reccluster-dashboard", LocalSweep.SystemConfig);
            var reader = system.ActorOf(StoreReader.Props(new LeaderboardSettings(location, ReadOnly: true)), "store");
            using var stop = new CancellationTokenSource();
            using var signals = StopSignals.Register(_ => stop.Cancel());
            var api = Start(parse.GetValue(port), reader, new ApiOptions(ReadOnly: true, Mode: ServerMode.Store), stderr);
            Announce(api, stderr);
            stderr.WriteLine($"dashboard: {location}, read-only; Ctrl+C stops");
            stop.Token.WaitHandle.WaitOne();
            stderr.WriteLine("dashboard: stopping");
            api.DisposeAsync().AsTask().GetAwaiter().GetResult();
            system.Terminate().Wait();
            return Errors.Ok;
        }));
        return command;
    }

    /// <summary>--port P for the dashboard (also `sweep --dashboard`): 0 picks a free port.</summary>
    public static Option<int> PortOption()
    {
        var port = new Option<int>("--port")
        {
            Description = $"Port of the dashboard on 127.0.0.1 (0: any free port; default {DefaultPort}).",
            DefaultValueFactory = _ => DefaultPort,
        };
        return port.InRange(0, IPEndPoint.MaxPort, $"--port must be between 0 and {IPEndPoint.MaxPort}");
    }

    /// <summary>Says on stderr where the dashboard is, once it answers requests.</summary>
    public static void Announce(CoordinatorApi api, TextWriter stderr) => stderr.WriteLine($"dashboard at {api.Address}");

    /// <summary>Serves the dashboard and its API on 127.0.0.1:<paramref name="port"/>; <see cref="Announce"/> says where.</summary>
    /// <param name="answerer">What answers its requests; null: 503 until <see cref="CoordinatorApi.Attach"/>.</param>
    /// <exception cref="UsageException">The port cannot be listened at (in use): bad input, exit 2.</exception>
    public static CoordinatorApi Start(int port, IActorRef? answerer, ApiOptions options, TextWriter stderr)
    {
        CoordinatorApi api;
        try
        {
            api = CoordinatorApi.StartAsync(new IPEndPoint(IPAddress.Loopback, port), answerer, stderr, options: options)
                .GetAwaiter().GetResult();
        }
        catch (IOException e)
        {
            throw new UsageException($"--port {port}: cannot listen at 127.0.0.1:{port} (in use?): {e.Message} (--port 0 picks a free one)");
        }
        return api;
    }
}
