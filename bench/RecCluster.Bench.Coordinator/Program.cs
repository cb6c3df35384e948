using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Akka.Actor;
using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Sweeps;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

// Coordinator throughput with simulated trials on 64 slots: how many trial reports (epochs, each with a
// validation result, each persisted to SQLite) the actors handle per second, and how close the makespan
// comes to total trial work ÷ slots when trials take real time.
const int Slots = 64;
var folder = Directory.CreateTempSubdirectory("reccluster-bench-").FullName;
var system = ActorSystem.Create("bench", "akka.loglevel = WARNING\nakka.log-dead-letters = off");
Console.WriteLine("| scenario | trials × epochs | slots | makespan (s) | reports/s | slot utilisation |");
Console.WriteLine("|---|---|---|---|---|---|");
try
{
    await Scenario("instant epochs (coordinator + SQLite bound)", trials: 640, epochs: 20, TimeSpan.Zero);
    await Scenario("50 ms epochs", trials: 256, epochs: 10, TimeSpan.FromMilliseconds(50));
    await Scenario("50 ms epochs, ASHA", trials: 256, epochs: 10, TimeSpan.FromMilliseconds(50), "{asha: {grace_period: 1, reduction_factor: 3, max_t: 10}}");
}
finally
{
    await system.Terminate();
    Directory.Delete(folder, true);
}

async Task Scenario(string name, int trials, int epochs, TimeSpan epochDuration, string scheduler = "fifo")
{
    var path = Path.Combine(folder, $"{Guid.NewGuid():N}.yaml");
    File.WriteAllText(path, $"""
        name: bench
        data: {"{"}synthetic: {"{"}users: 10, items: 20, min_length: 5, max_length: 8{"}"}{"}"}
        evaluation: {"{"}cutoffs: [10], metrics: [ndcg]{"}"}
        models: {"{"}sasrec: {"{"}learning_rate: {"{"}loguniform: [0.0001, 0.1]{"}"}, n_epochs: {epochs}{"}"}{"}"}
        search: {"{"}algorithm: random, num_trials: {trials}, seed: 1{"}"}
        scheduler: {scheduler}
        """);
    var config = ExperimentLoader.LoadSweep(path);
    var busy = new ConcurrentBag<double>();
    var simulated = new SimulatedTrialLauncher(system.Scheduler, epochDuration, run =>
    {
        double quality = Math.Log10((double)run.Spec.Params["learning_rate"]) + 5;
        return new SimulatedTrial("ndcg@10", e => quality * (1 - Math.Exp(-e / 3.0)), epochs);
    });
    var launcher = new TimingLauncher(simulated, busy);
    var clock = Stopwatch.StartNew();
    await using var sweep = new LocalSweep(config, Path.Combine(folder, Path.GetFileNameWithoutExtension(path)), WorkerAgent.PlanSlots(Slots, 0, 0), launcher, TimeSpan.FromMinutes(5), system: system);
    var finished = await sweep.RunAsync();
    double seconds = clock.Elapsed.TotalSeconds;
    long reports = finished.Summary.TotalEpochs;
    double utilisation = busy.Sum() / (Slots * seconds);
    Console.WriteLine($"| {name} | {trials} × {epochs} | {Slots} | {seconds.ToString("F2", CultureInfo.InvariantCulture)} | " +
        $"{(reports / seconds).ToString("F0", CultureInfo.InvariantCulture)} | {utilisation.ToString("F2", CultureInfo.InvariantCulture)} |");
}

/// <summary>Measures how long each trial holds its slot, from launch to exit.</summary>
sealed class TimingLauncher(ITrialLauncher inner, ConcurrentBag<double> busy) : ITrialLauncher
{
    public ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit)
    {
        var clock = Stopwatch.StartNew();
        return inner.Launch(run, onEvent, (code, message) => { busy.Add(clock.Elapsed.TotalSeconds); onExit(code, message); });
    }
}
