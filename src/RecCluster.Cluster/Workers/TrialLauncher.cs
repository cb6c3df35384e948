using System.Diagnostics;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Security;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Workers;

/// <summary>A running trial: it can be asked to stop after its epoch, or killed.</summary>
public interface ITrialHandle
{
    /// <summary>The trial's operating-system process, when it has one.</summary>
    int? ProcessId { get; }
    void RequestStop();
    void Kill();
}

/// <summary>
/// Starts trials. Events and the exit are delivered through the callbacks, possibly from other threads;
/// <c>onExit</c> is called once, after the last event.
/// </summary>
public interface ITrialLauncher
{
    ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit);
}

/// <summary>
/// Runs each trial as its own child process (<c>reccluster trial spec.json --state-dir DIR [--resume]</c>), so a native
/// crash, an out-of-memory kill or a hang never takes the worker down. The trial's torch threads come from
/// cpus_per_trial; its GPU goes in CUDA_VISIBLE_DEVICES. With a <paramref name="storage"/> folder each trial keeps its
/// checkpoints in <see cref="TrialStorage.DirectoryFor"/>, which every attempt of the trial shares (on a cluster, a folder all
/// nodes share), so a retry resumes where the attempt before it left off. The trial ends when its standard input closes:
/// a worker killed outright takes its trials with it.
/// </summary>
public sealed class ProcessTrialLauncher(string executable, IReadOnlyList<string> prefixArguments, string specDirectory,
    string? storage = null) : ITrialLauncher
{
    /// <summary>Launches this same program: the apphost, or <c>dotnet reccluster.dll</c>.</summary>
    public static ProcessTrialLauncher ForCurrentProgram(string specDirectory, string? storage = null)
    {
        var process = Environment.ProcessPath!;
        var entry = System.Reflection.Assembly.GetEntryAssembly()!.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? new ProcessTrialLauncher(process, [entry], specDirectory, storage)
            : new ProcessTrialLauncher(process, [], specDirectory, storage);
    }

    public ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit)
    {
        Directory.CreateDirectory(specDirectory);
        // The sweep id comes from a submitted name: checked again here, so no file is written outside the spec folder.
        var specPath = PathConfinement.Inside(specDirectory, $"{run.Id.SweepId}-trial-{run.Id.Index:D4}-attempt-{run.Id.Attempt}.json");
        File.WriteAllText(specPath, TrialCodec.EncodeSpec(run.Spec));
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in prefixArguments) start.ArgumentList.Add(a);
        start.ArgumentList.Add("trial");
        start.ArgumentList.Add(specPath);
        if (storage is not null)
        {
            start.ArgumentList.Add("--state-dir");
            start.ArgumentList.Add(TrialStorage.DirectoryFor(storage, run.Id));
            if (run.Resume) start.ArgumentList.Add("--resume");
        }
        start.Environment["CUDA_VISIBLE_DEVICES"] = run.Slot.CudaDevices ?? "";
        var process = new Process { StartInfo = start };
        var stderr = new Queue<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line && TrialCodec.Decode(line) is { } ev) onEvent(ev); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) { stderr.Enqueue(e.Data); if (stderr.Count > 5) stderr.Dequeue(); }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var handle = new Handle(process);
        _ = Task.Run(async () =>
        {
            await process.WaitForExitAsync();
            string tail;
            lock (stderr) tail = string.Join(" | ", stderr);
            onExit(process.ExitCode, tail);
            process.Dispose();
        });
        return handle;
    }

    private sealed class Handle(Process process) : ITrialHandle
    {
        public int? ProcessId { get; } = process.Id;

        public void RequestStop()
        {
            try { process.StandardInput.WriteLine("stop"); process.StandardInput.Flush(); }
            catch (Exception e) when (e is IOException or InvalidOperationException) { /* already exiting */ }
        }

        public void Kill()
        {
            try { process.Kill(entireProcessTree: true); }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { /* already gone */ }
        }
    }
}

/// <summary>Where a trial keeps its checkpoints inside a storage folder: one directory per trial, shared by its attempts.</summary>
public static class TrialStorage
{
    /// <exception cref="ArgumentException">The sweep id would lead outside <paramref name="storage"/>.</exception>
    public static string DirectoryFor(string storage, AttemptId id) =>
        PathConfinement.Inside(storage, Path.Combine(id.SweepId, $"trial-{id.Index:D4}"));
}

/// <summary>
/// A worker's <c>--data-root</c>: refuses to start a trial whose data files lie outside the roots (the coordinator checked
/// them too, but a worker trusts its own configuration, not the sweep's text).
/// </summary>
public sealed class ConfinedTrialLauncher(ITrialLauncher inner, DataRoots roots) : ITrialLauncher
{
    public ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit)
    {
        if (run.Spec.Data.Select(d => roots.Refusal(d.Path)).FirstOrDefault(r => r is not null) is { } refusal)
            throw new UnauthorizedAccessException($"this worker's --data-root refuses it: {refusal}");
        return inner.Launch(run, onEvent, onExit);
    }
}
