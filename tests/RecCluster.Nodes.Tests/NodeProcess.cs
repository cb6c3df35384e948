using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace RecCluster.Nodes.Tests;

/// <summary>
/// One <c>reccluster node</c> process on 127.0.0.1. Its stdout JSON event lines are collected as they come; waits poll
/// them with a deadline. Disposing kills the process if it still runs.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const int SigTerm = 15, SigStop = 19, SigCont = 18;

    private readonly string _name;
    private readonly Process _process;
    private readonly object _gate = new();   // a Monitor: waits sleep until a line arrives
    private readonly List<JsonObject> _events = [];
    private readonly Queue<string> _stderrTail = new();
    private readonly List<string> _stderr = [];
    private bool _stdoutClosed;
    private bool _stderrClosed;

    private NodeProcess(string name, Process process) => (_name, _process) = (name, process);

    public static string TestConfig => Path.Combine(AppContext.BaseDirectory, "cluster-config", "test.conf");

    public static NodeProcess Start(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        Cli(name, ["node", .. args], environment);

    /// <summary>Any <c>reccluster</c> command as a process, e.g. <c>dashboard --state DIR</c>, watched as a node is.</summary>
    public static NodeProcess Cli(string name, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "reccluster.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var node = new NodeProcess(name, new Process { StartInfo = start });
        node._process.OutputDataReceived += (_, e) => node.OnStdout(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.OnStderr(e.Data);
        node._process.Start();
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        return node;
    }

    /// <summary>The <paramref name="nth"/> event (1-based) that matches, waiting up to <see cref="Patience"/> for it.</summary>
    public JsonObject WaitFor(string what, Func<JsonObject, bool> match, int nth = 1)
    {
        var deadline = DateTime.UtcNow + Patience;
        lock (_gate)
        {
            while (true)
            {
                var hits = _events.Where(match).ToList();
                if (hits.Count >= nth) return hits[nth - 1];
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || _stdoutClosed)
                    throw new TimeoutException($"{_name}: no {what} within {Patience.TotalSeconds} s" +
                        (_stdoutClosed ? " (its output ended: the process exited)" : "") + $"\n{Describe()}");
                Monitor.Wait(_gate, left);
            }
        }
    }

    /// <summary>The events seen so far, in order.</summary>
    public IReadOnlyList<JsonObject> Events
    {
        get { lock (_gate) return _events.ToList(); }
    }

    /// <summary>The first stderr line containing <paramref name="text"/>, waiting up to <see cref="Patience"/> for it.</summary>
    public string WaitForLog(string text)
    {
        var deadline = DateTime.UtcNow + Patience;
        lock (_gate)
        {
            while (true)
            {
                if (_stderr.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line) return line;
                var left = deadline - DateTime.UtcNow;
                // Its stderr ended (not merely the process: lines written just before exiting may still be on their way).
                if (left <= TimeSpan.Zero || _stderrClosed)
                    throw new TimeoutException($"{_name}: no log line with '{text}' within {Patience.TotalSeconds} s\n{Describe()}");
                Monitor.Wait(_gate, left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public void Terminate() => Assert.Equal(0, kill(_process.Id, SigTerm));

    /// <summary>Freezes the process (SIGSTOP) as a stalled machine would be; <see cref="Thaw"/> lets it go on.</summary>
    public void Freeze() => Assert.Equal(0, kill(_process.Id, SigStop));

    public void Thaw() => Assert.Equal(0, kill(_process.Id, SigCont));

    public void KillHard()
    {
        _process.Kill();
        Assert.True(_process.WaitForExit(Patience), $"{_name} survived SIGKILL");
    }

    public int WaitForExit()
    {
        if (!_process.WaitForExit(Patience))
            throw new TimeoutException($"{_name} did not exit within {Patience.TotalSeconds} s\n{Describe()}");
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(10));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnStdout(string? line)
    {
        lock (_gate)
        {
            if (line is null) _stdoutClosed = true;   // no event can come any more: waiters fail at once
            else if (line.StartsWith('{')) _events.Add(JsonNode.Parse(line)!.AsObject());
            else return;
            Monitor.PulseAll(_gate);
        }
    }

    private void OnStderr(string? line)
    {
        lock (_gate)
        {
            if (line is null)
            {
                _stderrClosed = true;
                Monitor.PulseAll(_gate);
                return;
            }
            _stderr.Add(line);
            Monitor.PulseAll(_gate);
            _stderrTail.Enqueue(line);
            if (_stderrTail.Count > 60) _stderrTail.Dequeue();
        }
    }

    public override string ToString() => $"--- {_name}\n{Describe()}";

    private string Describe()
    {
        lock (_gate)
            return $"events:\n{string.Join('\n', _events.Select(e => e.ToJsonString()))}\n" +
                $"stderr (last lines):\n{string.Join('\n', _stderrTail)}";
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
