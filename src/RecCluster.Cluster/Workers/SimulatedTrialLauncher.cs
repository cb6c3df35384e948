using Akka.Actor;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Workers;

/// <summary>How a simulated trial behaves: its validation objective per epoch and how it ends.</summary>
/// <param name="FailAtEpoch">The process "crashes" (exit code 1) when this epoch would start.</param>
/// <param name="HangAtEpoch">The trial goes silent from this epoch on, until it is killed.</param>
/// <param name="LingerAfterResult">The process stays after reporting its result, until it is killed.</param>
public sealed record SimulatedTrial(string Metric, Func<int, double> Score, int Epochs, int EvalStep = 1, int? FailAtEpoch = null,
    int? HangAtEpoch = null, bool LingerAfterResult = false);

/// <summary>
/// Runs trials as simulations on the actor system's scheduler instead of processes, for coordinator tests
/// and benchmarks: one epoch every <paramref name="epochDuration"/>, honouring stop and kill like a real trial.
/// </summary>
/// <param name="scheduler">The actor system's scheduler; null: .NET timers, for a node whose trials outlive an actor
/// system (a worker starts a new one when it rejoins).</param>
public sealed class SimulatedTrialLauncher(IScheduler? scheduler, TimeSpan epochDuration, Func<RunTrial, SimulatedTrial> plan) : ITrialLauncher
{
    private int _running, _maxRunning, _launched;

    public int MaxRunning => Volatile.Read(ref _maxRunning);
    public int Launched => Volatile.Read(ref _launched);
    public int Running => Volatile.Read(ref _running);

    public ITrialHandle Launch(RunTrial run, Action<TrialEvent> onEvent, Action<int, string> onExit)
    {
        Interlocked.Increment(ref _launched);
        int now = Interlocked.Increment(ref _running);
        int max;
        while ((max = Volatile.Read(ref _maxRunning)) < now && Interlocked.CompareExchange(ref _maxRunning, now, max) != max) { }
        var trial = new Trial(this, plan(run), onEvent, onExit);
        trial.Schedule();
        return trial;
    }

    private sealed class Trial(SimulatedTrialLauncher owner, SimulatedTrial spec, Action<TrialEvent> onEvent, Action<int, string> onExit) : ITrialHandle
    {
        private readonly object _gate = new();
        private int _epoch, _bestEpoch;
        private double _best = double.NegativeInfinity;
        private bool _stopRequested, _exited;

        public int? ProcessId => null;

        public void Schedule() => owner.Schedule(Step);

        private void Step()
        {
            lock (_gate)
            {
                if (_exited) return;
                int next = _epoch + 1;
                if (spec.FailAtEpoch == next) { Exit(1, "simulated crash"); return; }
                if (spec.HangAtEpoch is { } h && next >= h) return;   // silent until killed
                _epoch = next;
                IReadOnlyDictionary<string, double>? valid = null;
                if (_epoch % spec.EvalStep == 0 || _epoch == spec.Epochs)
                {
                    double score = spec.Score(_epoch);
                    valid = new Dictionary<string, double> { [spec.Metric] = score };
                    if (score > _best) (_best, _bestEpoch) = (score, _epoch);
                }
                onEvent(new TrialEpoch(_epoch, 1.0 / _epoch, valid));
                if (_epoch >= spec.Epochs || _stopRequested)
                {
                    var final = new Dictionary<string, double> { [spec.Metric] = _best };
                    onEvent(new TrialFinished(_stopRequested ? "stopped" : "completed", "simulated", _bestEpoch, _epoch, final, final, 0));
                    if (!spec.LingerAfterResult) Exit(0, "");
                    return;
                }
            }
            Schedule();
        }

        private void Exit(int code, string message)
        {
            _exited = true;
            Interlocked.Decrement(ref owner._running);
            onExit(code, message);
        }

        public void RequestStop()
        {
            lock (_gate) _stopRequested = true;
        }

        public void Kill()
        {
            lock (_gate) if (!_exited) Exit(137, "killed");
        }
    }

    private void Schedule(Action action)
    {
        if (epochDuration <= TimeSpan.Zero) ThreadPool.UnsafeQueueUserWorkItem(_ => action(), null);
        else if (scheduler is null) _ = Task.Delay(epochDuration).ContinueWith(_ => action(), TaskScheduler.Default);
        else scheduler.Advanced.ScheduleOnce(epochDuration, action);
    }
}
