using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Config;
using RecCluster.Core.Security;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

public sealed class WorkerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("reccluster-worker-").FullName;
    public void Dispose() => Directory.Delete(_folder, true);

    [Fact]
    public void Gpu_shares_become_slots_with_their_devices()
    {
        var quarter = WorkerAgent.PlanSlots(cpuSlots: 3, gpus: 2, gpusPerTrial: 0.25);
        Assert.Equal(8, quarter.Count);
        Assert.Equal(["0", "0", "0", "0", "1", "1", "1", "1"], quarter.Select(s => s.CudaDevices));
        Assert.Equal(["0,1", "2,3"], WorkerAgent.PlanSlots(3, 4, 2).Select(s => s.CudaDevices));
        Assert.All(WorkerAgent.PlanSlots(3, 0, 0), s => Assert.Null(s.CudaDevices));
        Assert.Equal(3, WorkerAgent.PlanSlots(3, 0, 0).Count);
        Assert.Throws<InvalidOperationException>(() => WorkerAgent.PlanSlots(3, 0, 0.5));
    }

    [Fact]
    public async Task A_trial_process_gets_its_gpu_and_speaks_json_lines()
    {
        // A stand-in trial program: reports its CUDA_VISIBLE_DEVICES and the spec's model, then exits 3.
        var script = """echo "starting"; echo "{\"type\":\"error\",\"message\":\"$CUDA_VISIBLE_DEVICES $(grep -o sasrec "$2")\"}"; echo oops >&2; exit 3""";
        var launcher = new ProcessTrialLauncher("/bin/sh", ["-c", script, "sh"], _folder);
        var events = new List<TrialEvent>();
        var exited = new TaskCompletionSource<(int, string)>();
        var spec = new TrialSpec(new SweepSource("x.yaml", ""), "sasrec", new Dictionary<string, ParamValue> { ["hidden_size"] = 8L }, 1, []);
        launcher.Launch(new RunTrial(new AttemptId("s", 0, 1), spec, new Slot("gpu1.0", "1")), e => { lock (events) events.Add(e); },
            (code, err) => exited.SetResult((code, err)));
        var (code, stderr) = await exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, code);
        Assert.Equal("oops", stderr);
        Assert.Equal("1 sasrec", Assert.IsType<TrialError>(Assert.Single(events)).Message);   // "starting" is not an event
    }
}

/// <summary>A worker's own data roots: a trial reading elsewhere is not started.</summary>
public sealed class ConfinedLauncherTests : IDisposable
{
    private readonly SweepFiles _files = new();

    public void Dispose() => _files.Dispose();

    private sealed class Recording : ITrialLauncher
    {
        public int Launched { get; private set; }

        public ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit)
        {
            Launched++;
            return null!;   // never used: the test only counts launches
        }
    }

    private static RunTrial Reading(string path) => new(new AttemptId("t-1", 0, 1),
        new TrialSpec(new SweepSource("/s.yaml", "name: t\n"), "pop", new Dictionary<string, ParamValue>(), 1, [new DataFile(path, "00")]),
        new Slot("cpu0", null), Resume: false);

    [Fact]
    public void A_trial_reading_outside_the_workers_roots_is_refused_before_it_starts()
    {
        var inner = new Recording();
        var roots = DataRoots.Of([_files.Folder], "--data-root");
        var launcher = new ConfinedTrialLauncher(inner, roots);
        var e = Assert.Throws<UnauthorizedAccessException>(() => launcher.Launch(Reading("/etc/passwd"), _ => { }, (_, _) => { }));
        Assert.Equal($"this worker's --data-root refuses it: /etc/passwd is outside the data roots ({_files.Folder})", e.Message);
        Assert.Equal(0, inner.Launched);
        launcher.Launch(Reading(Path.Combine(_files.Folder, "ok.inter")), _ => { }, (_, _) => { });
        Assert.Equal(1, inner.Launched);
    }
}
