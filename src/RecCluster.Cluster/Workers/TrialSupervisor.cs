using Akka.Actor;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Workers;

/// <summary>
/// Watches one trial attempt: relays its events to the worker, kills it when it stops reporting for longer
/// than the heartbeat timeout, or when a requested stop is not honoured in time, and reports its exit.
/// </summary>
public sealed class TrialSupervisor : ReceiveActor, IWithTimers
{
    private sealed record Event(TrialEvent Value);
    private sealed record Exited(int Code, string StandardError);
    private sealed record CheckHeartbeat;
    private sealed record StopDeadline;

    private readonly RunTrial _run;
    private readonly ITrialLauncher _launcher;
    private ITrialHandle? _handle;
    private readonly TimeSpan _heartbeatTimeout;
    private DateTime _lastSeen = DateTime.UtcNow;
    private bool _finished;
    private string? _killedFor;

    public ITimerScheduler Timers { get; set; } = null!;

    public TrialSupervisor(RunTrial run, ITrialLauncher launcher, TimeSpan heartbeatTimeout)
    {
        _run = run;
        _launcher = launcher;
        _heartbeatTimeout = heartbeatTimeout;

        Receive<Event>(e =>
        {
            _lastSeen = DateTime.UtcNow;
            if (e.Value is TrialFinished) _finished = true;
            if (e.Value is TrialHeartbeat) return;
            Context.Parent.Tell(new TrialReported(run.Index, run.Attempt, e.Value));
        });
        Receive<CheckHeartbeat>(_ =>
        {
            if (_finished || DateTime.UtcNow - _lastSeen <= _heartbeatTimeout) return;
            _killedFor = $"no report for {_heartbeatTimeout.TotalSeconds:F0}s (hung); killed";
            _handle?.Kill();
        });
        Receive<StopTrial>(stop =>
        {
            if (stop.Immediately)
            {
                _killedFor = "stopped: the sweep was aborted";
                _handle?.Kill();
                return;
            }
            _handle?.RequestStop();
            Timers.StartSingleTimer("stop", new StopDeadline(), _heartbeatTimeout);
        });
        Receive<StopDeadline>(_ =>
        {
            if (_finished) return;
            _killedFor = "did not stop when asked; killed";
            _handle?.Kill();
        });
        Receive<Exited>(x =>
        {
            string? failure = _finished ? null
                : _killedFor ?? $"trial process exited with code {x.Code}{(x.StandardError.Length > 0 ? ": " + x.StandardError : "")}";
            Context.Parent.Tell(new TrialExited(run.Index, run.Attempt, run.Slot, failure));
            _handle?.Kill();
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        var self = Self;
        try
        {
            _handle = _launcher.Launch(_run, e => self.Tell(new Event(e)), (code, stderr) => self.Tell(new Exited(code, stderr)));
        }
        catch (Exception e)
        {
            // A trial that cannot even start is a failed attempt, not a stuck sweep.
            Context.Parent.Tell(new TrialExited(_run.Index, _run.Attempt, _run.Slot, $"could not start the trial: {e.Message}"));
            Context.Stop(Self);
            return;
        }
        Timers.StartPeriodicTimer("heartbeat", new CheckHeartbeat(), TimeSpan.FromTicks(Math.Max(_heartbeatTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks)));
    }

    protected override void PostStop()
    {
        // A sweep that ends (or a worker that stops) takes its trials with it.
        if (!_finished) _handle?.Kill();
    }
}
