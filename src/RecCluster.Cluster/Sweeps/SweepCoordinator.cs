using Akka.Actor;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Sweeps;

/// <summary>What a coordinator needs to run one sweep: its config (with the submitted text) and the data files' recorded hashes.</summary>
public sealed record SweepPlan(string SweepId, SweepConfig Config, IReadOnlyList<DataFile> Data)
{
    public string ObjectiveMetric => Config.Experiment.Objective.Metric;

    /// <summary>The objective oriented so that higher is better, or null when it was not reported.</summary>
    public double? Score(IReadOnlyDictionary<string, double>? valid) =>
        valid is not null && valid.TryGetValue(ObjectiveMetric, out var v) && !double.IsNaN(v) ? Oriented(v) : null;

    public double Oriented(double objective) => Config.Experiment.Objective.Maximize ? objective : -objective;
}

/// <summary>
/// Runs one sweep, a child of the <see cref="SweepManager"/>: on start it registers the sweep with the leaderboard and
/// rebuilds its state from what the store holds (see <see cref="Restore"/>), then asks its manager for slots and runs
/// trials on those it is granted (at most max_concurrent_trials at once), feeds intermediate validation results to the
/// scheduler and stops the trials it prunes, retries failed attempts up to max_failures, enforces the time budget, and
/// records everything on the leaderboard. It runs on its own, and tells its manager when it ended.
/// </summary>
public sealed class SweepCoordinator : ReceiveActor, IWithTimers, IWithUnboundedStash
{
    /// <summary>Internal timer tick: the time budget is spent. Never leaves this actor.</summary>
    private sealed record BudgetTick : INoSerializationVerificationNeeded;

    private enum StopReason { Pruned, MaxT, TimeBudget }

    private sealed class Running(TrialSuggestion trial, AttemptId id, IActorRef worker)
    {
        public TrialSuggestion Trial { get; } = trial;
        public AttemptId Id { get; } = id;
        public int Attempt => Id.Attempt;
        public IActorRef Worker { get; } = worker;
        public StopReason? StopReason { get; set; }
        public string? Error { get; set; }
    }

    private readonly SweepConfig _config;
    private readonly IActorRef _leaderboard;
    private readonly ISearcher _searcher;
    private readonly ITrialScheduler _scheduler;
    private readonly Queue<(TrialSuggestion Trial, int Attempt)> _queued = new();
    private readonly Dictionary<int, Running> _running = [];
    private SweepPlan _plan = null!;
    private SweepState _state = SweepState.Queued;
    private bool _exhausted, _cancelled, _outOfTime, _finishing;
    private int _drawn, _completed, _pruned, _failed, _interrupted, _grantsSeen;
    private (int Wanted, int GrantsSeen)? _demandSent;
    private long _epochs;

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public SweepCoordinator(SweepConfig config, IReadOnlyList<DataFile> data, IActorRef leaderboard)
    {
        _config = config;
        _leaderboard = leaderboard;
        _searcher = Searchers.Create(config.Models, config.Search);
        _scheduler = TrialSchedulers.Create(config.Scheduler);
        var experiment = config.Experiment;
        leaderboard.Tell(new RegisterSweep(config.Id, experiment.Name, config.Source, experiment.Objective, data));
        Receive<SweepRegistered>(registered =>
        {
            Restore(registered);
            Become(Active);
            Stash.UnstashAll();
            if (config.TimeBudgetSeconds is { } seconds) Timers.StartSingleTimer("budget", new BudgetTick(), TimeSpan.FromSeconds(seconds));
            Dispatch();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Active()
    {
        Receive<SlotGranted>(OnGrant);
        Receive<TrialReported>(OnReport);
        Receive<TrialExited>(OnExit);
        Receive<GetSweepStatus>(_ => Sender.Tell(Status()));
        Receive<BudgetTick>(_ =>
        {
            _outOfTime = true;
            foreach (var run in _running.Values.Where(r => r.StopReason is null))
            {
                run.StopReason = StopReason.TimeBudget;
                run.Worker.Tell(new StopTrial(run.Id));
            }
            Dispatch();
        });
        Receive<CancelSweep>(_ =>
        {
            _cancelled = true;
            foreach (var run in _running.Values) run.Worker.Tell(new StopTrial(run.Id, Immediately: true));
            Sender.Tell(Status());
            Dispatch();
        });
        Receive<Flushed>(_ =>
        {
            _state = _cancelled ? SweepState.Cancelled : SweepState.Finished;
            Context.Parent.Tell(new SweepEnded(Status()));
        });
    }

    /// <summary>
    /// Rebuilds the sweep's state from the store, so a restarted coordinator goes on where the last one stopped: the
    /// search is replayed up to the last stored trial (stored trials keep their params; finished ones are observed, so
    /// a learning search such as TPE learns from them), the scheduler is fed every stored validation result (so ASHA's
    /// rungs hold what they held), and trials not finished (pending, running, interrupted) are queued as a new attempt,
    /// which counts against max_failures like any other.
    /// </summary>
    private void Restore(SweepRegistered registered)
    {
        _plan = new SweepPlan(_config.Id, _config, registered.Data);
        var stored = registered.Trials.ToDictionary(t => t.Index);
        foreach (var (index, epochs) in registered.Epochs)
        {
            _epochs += epochs.Count;
            foreach (var epoch in epochs.OrderBy(e => (e.Attempt, e.Epoch)))
                if (_plan.Score(epoch.Valid) is { } score) _scheduler.OnResult(index.ToString(), epoch.Epoch, score);
        }
        int last = stored.Count == 0 ? -1 : stored.Keys.Max();
        while (_drawn <= last && Draw() is { } trial)
        {
            if (!stored.TryGetValue(trial.Index, out var previous)) { _queued.Enqueue((trial, 1)); continue; }
            trial = trial with { Model = previous.Model, Params = previous.Params };
            if (!TrialStatus.IsFinal(previous.Status)) { _queued.Enqueue((trial, previous.Attempts + 1)); continue; }
            if (previous.Status == TrialStatus.Completed) _completed++;
            else if (previous.Status == TrialStatus.Pruned) _pruned++;
            else _failed++;
            if (previous.Objective is { } objective) _searcher.Observe(trial, _plan.Oriented(objective));
        }
    }

    private TrialSuggestion? Draw()
    {
        var trial = _exhausted ? null : _searcher.Next();
        if (trial is null) _exhausted = true;
        else _drawn++;
        return trial;
    }

    private void OnGrant(SlotGranted grant)
    {
        _grantsSeen++;
        if (Wanted() > 0 && NextTrial() is { } next)
        {
            var (trial, attempt) = next;
            _state = SweepState.Running;
            Record(trial, TrialStatus.Running, attempt, null);
            var spec = new TrialSpec(_config.Source, trial.Model, trial.Params, _config.Resources.CpusPerTrial, _plan.Data);
            var id = new AttemptId(_plan.SweepId, trial.Index, attempt);
            grant.Worker.Tell(new RunTrial(id, spec, grant.Slot));
            _running[trial.Index] = new Running(trial, id, grant.Worker);
        }
        else Context.Parent.Tell(new SlotReleased(grant.Worker, grant.Slot));
        Dispatch();
    }

    private (TrialSuggestion Trial, int Attempt)? NextTrial() =>
        _queued.Count > 0 ? _queued.Dequeue() : Draw() is { } fresh ? (fresh, 1) : null;

    private void OnReport(TrialReported report)
    {
        if (Current(report.Id) is not { } run) return;
        var (index, attempt) = (report.Id.Index, report.Id.Attempt);
        switch (report.Event)
        {
            case TrialEpoch epoch:
                _epochs++;
                _leaderboard.Tell(new RecordEpoch(_plan.SweepId, index, attempt, epoch));
                if (run.StopReason is null && _plan.Score(epoch.Valid) is { } score)
                {
                    var decision = _scheduler.OnResult(index.ToString(), epoch.Epoch, score);
                    if (decision == TrialDecision.Continue) break;
                    run.StopReason = decision == TrialDecision.Prune ? StopReason.Pruned : StopReason.MaxT;
                    run.Worker.Tell(new StopTrial(run.Id));
                }
                break;
            case TrialFinished result:
                string status = run.StopReason == StopReason.Pruned ? TrialStatus.Pruned : TrialStatus.Completed;
                _leaderboard.Tell(new RecordResult(_plan.SweepId, index, attempt, status, result,
                    result.Valid.TryGetValue(_plan.ObjectiveMetric, out var objective) ? objective : null));
                if (run.StopReason == StopReason.TimeBudget)
                    Record(run.Trial, status, attempt, "stopped by the time budget");
                if (_plan.Score(result.Valid) is { } finalScore) _searcher.Observe(run.Trial, finalScore);
                if (status == TrialStatus.Pruned) _pruned++; else _completed++;
                break;
            case TrialError error:
                run.Error = error.Message;
                break;
        }
    }

    /// <summary>
    /// The running attempt a worker message is about, or null when it is about an attempt no longer running (a late
    /// message from one given up on; its slot was released then).
    /// </summary>
    private Running? Current(AttemptId id) => _running.TryGetValue(id.Index, out var run) && run.Id == id ? run : null;

    private void OnExit(TrialExited exit)
    {
        if (Current(exit.Id) is not { } run) return;
        _running.Remove(exit.Id.Index);
        Context.Parent.Tell(new SlotReleased(Sender, exit.Slot));
        if (exit.Failure is not null)
        {
            string reason = run.Error is null ? exit.Failure : $"{run.Error} ({exit.Failure})";
            if (_cancelled)
            {
                _interrupted++;
                Record(run.Trial, TrialStatus.Interrupted, run.Attempt, reason);
            }
            else if (run.Attempt <= _config.MaxFailures && !_outOfTime)
            {
                _queued.Enqueue((run.Trial, run.Attempt + 1));
                Record(run.Trial, TrialStatus.Pending, run.Attempt, $"attempt {run.Attempt} failed: {reason}; retrying");
            }
            else
            {
                _failed++;
                Record(run.Trial, TrialStatus.Failed, run.Attempt, $"attempt {run.Attempt} failed: {reason}");
            }
        }
        Dispatch();
    }

    /// <summary>How many more trials could start now: those queued or not drawn yet, within max_concurrent_trials.</summary>
    private int Wanted()
    {
        if (_cancelled || _outOfTime) return 0;
        int ready = _queued.Count + (_exhausted ? 0 : _searcher.Total - _drawn);
        int limit = _config.MaxConcurrentTrials;
        return limit == 0 ? ready : Math.Min(ready, Math.Max(0, limit - _running.Count));
    }

    /// <summary>
    /// Tells the manager the demand when it changed or a grant arrived (so it can discount grants in flight); ends the
    /// sweep when nothing is left to run.
    /// </summary>
    private void Dispatch()
    {
        int wanted = Wanted();
        if (_demandSent != (wanted, _grantsSeen))
        {
            Context.Parent.Tell(new SlotDemand(_plan.SweepId, wanted, _grantsSeen));
            _demandSent = (wanted, _grantsSeen);
        }
        if (_running.Count == 0 && wanted == 0 && !_finishing)
        {
            _finishing = true;
            _leaderboard.Tell(new Flush());   // replies Flushed once every earlier record is written
        }
    }

    private SweepStatus Status() =>
        new(new SweepSummary(_plan.SweepId, _searcher.Total, _completed, _pruned, _failed, _interrupted, _epochs),
            _cancelled ? SweepState.Cancelled : _state);

    private void Record(TrialSuggestion trial, string status, int attempt, string? note) =>
        _leaderboard.Tell(new RecordTrial(_plan.SweepId, trial.Index, trial.Model, trial.Params, status, attempt, note));

    public static Props Props(SweepConfig config, IReadOnlyList<DataFile> data, IActorRef leaderboard) =>
        Akka.Actor.Props.Create(() => new SweepCoordinator(config, data, leaderboard));
}
