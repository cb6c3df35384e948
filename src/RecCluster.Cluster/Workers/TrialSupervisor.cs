using Akka.Actor;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Workers;

/// <summary>
/// Watches one trial attempt: checks the data files are the ones submitted, relays the trial's events to the
/// worker, kills it when it stops reporting for longer than the heartbeat timeout, or when a requested stop is
/// not honoured in time, and reports its exit.
/// </summary>
public sealed class TrialSupervisor : ReceiveActor, IWithTimers
{
    // Messages to itself, from the launcher's threads and timers: they never leave the node.
    private sealed record Event(TrialEvent Value) : INoSerializationVerificationNeeded;
    private sealed record Exited(int Code, string StandardError) : INoSerializationVerificationNeeded;
    private sealed record CheckHeartbeat : INoSerializationVerificationNeeded;
    private sealed record StopDeadline : INoSerializationVerificationNeeded;

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
            Context.Parent.Tell(new TrialReported(run.Id, e.Value));
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
                _killedFor = "stopped: the sweep was cancelled";
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
            Context.Parent.Tell(new TrialExited(run.Id, run.Slot, failure));
            _handle?.Kill();
            Context.Stop(Self);
        });
    }

    protected override void PreStart()
    {
        var self = Self;
        // Hashing runs on this actor's thread before the trial exists: it is short next to the trial it guards.
        if (_run.Spec.Data.Select(d => d.Problem()).FirstOrDefault(p => p is not null) is { } dataProblem)
        {
            Fail($"on node {NodeName(Context.System)}: {dataProblem}");
            return;
        }
        try
        {
            _handle = _launcher.Launch(_run, e => self.Tell(new Event(e)), (code, stderr) => self.Tell(new Exited(code, stderr)));
        }
        catch (Exception e)
        {
            // A trial that cannot even start is a failed attempt, not a stuck sweep.
            Fail($"could not start the trial: {e.Message}");
            return;
        }
        Timers.StartPeriodicTimer("heartbeat", new CheckHeartbeat(), TimeSpan.FromTicks(Math.Max(_heartbeatTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks)));
    }

    private void Fail(string failure)
    {
        Context.Parent.Tell(new TrialExited(_run.Id, _run.Slot, failure));
        Context.Stop(Self);
    }

    /// <summary>The machine and the actor system's address, e.g. "gpu-3 (akka.tcp://reccluster@10.0.0.3:4053)".</summary>
    private static string NodeName(ActorSystem system) =>
        $"{Environment.MachineName} ({((ExtendedActorSystem)system).Provider.DefaultAddress})";

    protected override void PostStop()
    {
        // A sweep that ends (or a worker that stops) takes its trials with it.
        if (!_finished) _handle?.Kill();
    }
}
