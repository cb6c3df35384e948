using Akka.Actor;
using RecCluster.Cluster.Nodes;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Workers;

/// <summary>
/// Watches one trial attempt held by its worker: checks the data files are the ones submitted and launches the trial (or
/// takes over one its node's previous actor system launched), turns the trial's output into numbered reports for the
/// coordinator and re-sends them until acknowledged, kills the trial when it stops reporting for longer than the heartbeat
/// timeout, does not honour a requested stop in time or does not exit in that time after its result (the result stands),
/// and stops once its exit is acknowledged.
/// </summary>
public sealed class TrialSupervisor : ReceiveActor, IWithTimers
{
    // Messages to itself, from the launcher's threads and timers: they never leave the node.
    private sealed record Output(ProcessOutput Value) : INoSerializationVerificationNeeded;
    private sealed record CheckHeartbeat : INoSerializationVerificationNeeded;
    private sealed record StopDeadline : INoSerializationVerificationNeeded;
    private sealed record ExitDeadline : INoSerializationVerificationNeeded;
    private sealed record Resend : INoSerializationVerificationNeeded;

    private readonly HeldTrial _held;
    private readonly HeldTrials _table;
    private readonly ITrialLauncher _launcher;
    private readonly WorkerTimings _timings;
    private DateTime _lastSeen = DateTime.UtcNow;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <summary>Reports go to the parent (the worker agent), which passes them on to the sweep manager.</summary>
    public TrialSupervisor(HeldTrial held, HeldTrials table, ITrialLauncher launcher, WorkerTimings timings)
    {
        (_held, _table, _launcher, _timings) = (held, table, launcher, timings);
        var id = held.Run.Id;

        Receive<Output>(o =>
        {
            _lastSeen = DateTime.UtcNow;
            switch (o.Value)
            {
                case ProcessEvent { Event: TrialHeartbeat }:
                    break;
                case ProcessEvent e:
                    if (e.Event is TrialFinished)
                    {
                        _held.Finished = true;
                        Timers.StartSingleTimer("exit", new ExitDeadline(), _timings.HeartbeatTimeout);
                    }
                    Send(_held.Outbox(seq => new TrialReported(id, e.Event, seq)));
                    break;
                case ProcessExit x:
                    string? failure = _held.Finished ? null
                        : _held.KilledFor ?? $"trial process exited with code {x.Code}{(x.StandardError.Length > 0 ? ": " + x.StandardError : "")}";
                    _held.Exited = true;
                    Send(_held.Outbox(seq => new TrialExited(id, held.Run.Slot, failure, seq)));
                    Timers.Cancel("heartbeat");
                    Timers.Cancel("exit");
                    break;
            }
        });
        Receive<CheckHeartbeat>(_ =>
        {
            if (_held.Finished || DateTime.UtcNow - _lastSeen <= _timings.HeartbeatTimeout) return;
            Kill($"no report for {_timings.HeartbeatTimeout.TotalSeconds:F0}s (hung); killed");
        });
        Receive<StopTrial>(stop =>
        {
            if (stop.Immediately)
            {
                Kill("stopped by its coordinator");
                return;
            }
            _held.Handle?.RequestStop();
            Timers.StartSingleTimer("stop", new StopDeadline(), _timings.HeartbeatTimeout);
        });
        Receive<StopDeadline>(_ =>
        {
            if (!_held.Finished) Kill("did not stop when asked; killed");
        });
        // Its result is reported: a process that then hangs (say, in native teardown) must not hold its slot for ever.
        Receive<ExitDeadline>(_ =>
        {
            if (!_held.Exited) Kill($"did not exit within {_timings.HeartbeatTimeout.TotalSeconds:F0}s of its result; killed");
        });
        Receive<ReportsAcked>(ack =>
        {
            _held.Ack(ack.UpTo);
            if (!_held.Done) return;
            _table.Remove(id);
            Context.Stop(Self);
        });
        Receive<Resend>(_ =>
        {
            foreach (var report in _held.Unacked) Send(report);
        });
    }

    private void Send(ITrialReport report) => Context.Parent.Tell(report);

    private void Kill(string reason)
    {
        _held.KilledFor ??= reason;
        _held.Handle?.Kill();
    }

    protected override void PreStart()
    {
        var self = Self;
        Timers.StartPeriodicTimer("resend", new Resend(), _timings.ResendInterval);
        if (_held.Handle is null && _held.Unacked.Count == 0)
        {
            // Hashing runs on this actor's thread before the trial exists: it is short next to the trial it guards.
            if (_held.Run.Spec.Data.Select(d => d.Problem()).FirstOrDefault(p => p is not null) is { } dataProblem)
            {
                _held.KilledFor = $"on node {NodeName(Context.System)}: {dataProblem}";
                _held.Deliver(new ProcessExit(-1, ""));
            }
            else
            {
                try
                {
                    _held.Handle = _launcher.Launch(_held.Run, e => _held.Deliver(new ProcessEvent(e)),
                        (code, stderr) => _held.Deliver(new ProcessExit(code, stderr)));
                }
                catch (Exception e)
                {
                    // A trial that cannot even start is a failed attempt, not a stuck sweep.
                    _held.KilledFor = $"could not start the trial: {e.Message}";
                    _held.Deliver(new ProcessExit(-1, ""));
                }
            }
        }
        else
        {
            // Taken over from this node's previous actor system: what it had not acknowledged goes out again.
            foreach (var report in _held.Unacked) Send(report);
        }
        _held.Attach(output => self.Tell(new Output(output)));
        if (_held.Finished && !_held.Exited) Timers.StartSingleTimer("exit", new ExitDeadline(), _timings.HeartbeatTimeout);
        Timers.StartPeriodicTimer("heartbeat", new CheckHeartbeat(),
            TimeSpan.FromTicks(Math.Max(_timings.HeartbeatTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks)));
    }

    /// <summary>The machine and the actor system's address, e.g. "gpu-3 (akka.tcp://reccluster@10.0.0.3:4053)".</summary>
    public static string NodeName(ActorSystem system) =>
        $"{Environment.MachineName} ({((ExtendedActorSystem)system).Provider.DefaultAddress})";

    protected override void PostStop()
    {
        _held.Detach();
        // A worker changing actor systems to rejoin its cluster keeps its trials; otherwise a stopping worker (or a sweep
        // that no longer wants the attempt) takes its trial with it.
        if (CoordinatedShutdown.Get(Context.System).ShutdownReason is CoordinatorsLost) return;
        if (!_held.Finished) _held.Handle?.Kill();
        _table.Remove(_held.Run.Id);
    }
}
