using System.Collections.Concurrent;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Workers;

/// <summary>
/// The trial attempts one worker process holds, kept outside its actor systems: a worker that leaves its cluster to join
/// a restarted coordinator starts a new actor system, and its trials keep running and are handed to the new one's
/// <see cref="WorkerAgent"/> (see <see cref="HeldTrial.Detach"/>), which reports them when it registers.
/// </summary>
public sealed class HeldTrials
{
    private readonly ConcurrentDictionary<AttemptId, HeldTrial> _trials = new();

    public IReadOnlyList<HeldTrial> All => [.. _trials.Values.OrderBy(t => t.Run.Id.SweepId).ThenBy(t => t.Run.Id.Index)];

    public HeldTrial? Find(AttemptId id) => _trials.GetValueOrDefault(id);

    public HeldTrial Add(RunTrial run) => _trials.GetOrAdd(run.Id, _ => new HeldTrial(run));

    public void Remove(AttemptId id) => _trials.TryRemove(id, out _);
}

/// <summary>What a trial's process said: an event line, or its exit.</summary>
public abstract record ProcessOutput;

public sealed record ProcessEvent(TrialEvent Event) : ProcessOutput;

public sealed record ProcessExit(int Code, string StandardError) : ProcessOutput;

/// <summary>
/// One held attempt: its process, the process output not yet taken by a supervisor, and the outbox of reports sent to the
/// coordinator and not yet acknowledged (numbered from 1; re-sent until acknowledged, so none is lost while the
/// coordinator restarts). Thread-safe: the process's output arrives on the launcher's threads.
/// </summary>
public sealed class HeldTrial(RunTrial run)
{
    private readonly object _gate = new();
    private readonly List<ProcessOutput> _untaken = [];
    private readonly List<ITrialReport> _unacked = [];
    private Action<ProcessOutput>? _sink;
    private long _sent, _acked;
    private bool _lastWasExit;

    public RunTrial Run { get; } = run;

    /// <summary>Null until launched; a held trial whose handle is set runs (or ran) in its own process.</summary>
    public ITrialHandle? Handle { get; set; }

    /// <summary>The process is gone (its exit may still wait for an acknowledgement): the slot is free again.</summary>
    public bool Exited { get; set; }

    /// <summary>The trial reported its final result: its exit is a success.</summary>
    public bool Finished { get; set; }

    /// <summary>Why the worker killed it, if it did: the failure its exit is reported with.</summary>
    public string? KilledFor { get; set; }

    public long Acked { get { lock (_gate) return _acked; } }

    /// <summary>All reports are acknowledged and the last was the exit: nothing more will come of this attempt.</summary>
    public bool Done { get { lock (_gate) return _unacked.Count == 0 && _sent > 0 && _lastWasExit; } }

    /// <summary>Called by the launcher: hands the output to the attached supervisor, or keeps it until one attaches.</summary>
    public void Deliver(ProcessOutput output)
    {
        lock (_gate)
        {
            if (_sink is { } sink) sink(output);
            else _untaken.Add(output);
        }
    }

    /// <summary>A supervisor takes over: it first gets whatever arrived while none was attached.</summary>
    public void Attach(Action<ProcessOutput> sink)
    {
        lock (_gate)
        {
            foreach (var output in _untaken) sink(output);
            _untaken.Clear();
            _sink = sink;
        }
    }

    /// <summary>The supervisor stops but the process runs on (its node is changing actor systems).</summary>
    public void Detach()
    {
        lock (_gate) _sink = null;
    }

    /// <summary>Numbers a new report and keeps it until acknowledged.</summary>
    public ITrialReport Outbox(Func<long, ITrialReport> report)
    {
        lock (_gate)
        {
            var numbered = report(++_sent);
            _unacked.Add(numbered);
            _lastWasExit = numbered is TrialExited;
            return numbered;
        }
    }

    public IReadOnlyList<ITrialReport> Unacked { get { lock (_gate) return [.. _unacked]; } }

    public void Ack(long upTo)
    {
        lock (_gate)
        {
            _unacked.RemoveAll(r => r.Seq <= upTo);
            _acked = Math.Max(_acked, Math.Min(upTo, _sent));
        }
    }
}
