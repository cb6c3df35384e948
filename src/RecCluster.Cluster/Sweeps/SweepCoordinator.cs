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
    public double? Score(IReadOnlyDictionary<string, double> valid) =>
        valid.TryGetValue(ObjectiveMetric, out var v) && !double.IsNaN(v) ? (Config.Experiment.Objective.Maximize ? v : -v) : null;
}

/// <summary>
/// Runs a sweep: draws trials from the search, hands them to free worker slots (at most
/// max_concurrent_trials at once), feeds intermediate validation results to the scheduler and stops the
/// trials it prunes, retries failed attempts up to max_failures, enforces the time budget, and records
/// everything on the leaderboard. Trials already finished in an earlier run (completed, pruned, failed)
/// are replayed into the search, not run again.
/// </summary>
public sealed class SweepCoordinator : ReceiveActor, IWithTimers
{
    /// <summary>Internal timer tick: the time budget is spent. Never leaves this actor.</summary>
    private sealed record BudgetTick : INoSerializationVerificationNeeded;

    private sealed class Running(TrialSuggestion trial, AttemptId id, IActorRef worker)
    {
        public TrialSuggestion Trial { get; } = trial;
        public AttemptId Id { get; } = id;
        public int Attempt => Id.Attempt;
        public IActorRef Worker { get; } = worker;
        public string? StopReason { get; set; }
        public string? Error { get; set; }
    }

    private readonly SweepPlan _plan;
    private readonly IActorRef _leaderboard;
    private readonly ISearcher _searcher;
    private readonly ITrialScheduler _scheduler;
    private readonly Dictionary<int, StoredTrial> _previous;
    private readonly Queue<(IActorRef Worker, Slot Slot)> _free = new();
    private readonly Queue<(TrialSuggestion Trial, int Attempt)> _retries = new();
    private readonly Dictionary<int, Running> _running = [];
    private IActorRef? _replyTo;
    private bool _exhausted, _aborting, _outOfTime, _finishing;
    private int _completed, _pruned, _failed, _interrupted;
    private long _epochs;

    public ITimerScheduler Timers { get; set; } = null!;

    public SweepCoordinator(SweepPlan plan, IActorRef leaderboard, IReadOnlyList<StoredTrial> previous)
    {
        _plan = plan;
        _leaderboard = leaderboard;
        _searcher = Searchers.Create(plan.Config.Models, plan.Config.Search);
        _scheduler = TrialSchedulers.Create(plan.Config.Scheduler);
        _previous = previous.ToDictionary(t => t.Index);

        Receive<RegisterWorker>(m =>
        {
            foreach (var slot in m.Slots) _free.Enqueue((m.Worker, slot));
            Dispatch();
        });
        Receive<RunSweep>(_ =>
        {
            _replyTo = Sender;
            if (plan.Config.TimeBudgetSeconds is { } seconds) Timers.StartSingleTimer("budget", new BudgetTick(), TimeSpan.FromSeconds(seconds));
            Dispatch();
        });
        Receive<TrialReported>(OnReport);
        Receive<TrialExited>(OnExit);
        Receive<BudgetTick>(_ =>
        {
            _outOfTime = true;
            foreach (var run in _running.Values.Where(r => r.StopReason is null))
            {
                run.StopReason = "time budget";
                run.Worker.Tell(new StopTrial(run.Id));
            }
            Dispatch();
        });
        Receive<AbortSweep>(_ =>
        {
            _aborting = true;
            foreach (var run in _running.Values) run.Worker.Tell(new StopTrial(run.Id, Immediately: true));
            Dispatch();
        });
        Receive<Flushed>(_ => _replyTo?.Tell(new SweepFinished(new SweepSummary(plan.SweepId, _searcher.Total, _completed, _pruned, _failed, _interrupted, _epochs))));
    }

    private void OnReport(TrialReported report)
    {
        if (Current(report.Id) is not { } run) return;
        var (index, attempt) = (report.Id.Index, report.Id.Attempt);
        switch (report.Event)
        {
            case TrialEpoch epoch:
                _epochs++;
                _leaderboard.Tell(new RecordEpoch(_plan.SweepId, index, attempt, epoch));
                if (epoch.Valid is not null && run.StopReason is null && _plan.Score(epoch.Valid) is { } score)
                {
                    var decision = _scheduler.OnResult(index.ToString(), epoch.Epoch, score);
                    if (decision == TrialDecision.Continue) break;
                    run.StopReason = decision == TrialDecision.Prune ? "pruned" : "max_t";
                    run.Worker.Tell(new StopTrial(run.Id));
                }
                break;
            case TrialFinished result:
                string status = run.StopReason == "pruned" ? TrialStatus.Pruned : TrialStatus.Completed;
                _leaderboard.Tell(new RecordResult(_plan.SweepId, index, attempt, status, result,
                    result.Valid.TryGetValue(_plan.ObjectiveMetric, out var objective) ? objective : null));
                if (run.StopReason == "time budget")
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
    /// The running attempt a worker message is about, or null when it is about another sweep or an attempt no
    /// longer running (a late message from one given up on; its slot was accounted for then).
    /// </summary>
    private Running? Current(AttemptId id) => _running.TryGetValue(id.Index, out var run) && run.Id == id ? run : null;

    private void OnExit(TrialExited exit)
    {
        if (Current(exit.Id) is not { } run) return;
        _running.Remove(exit.Id.Index);
        _free.Enqueue((Sender, exit.Slot));
        if (exit.Failure is not null)
        {
            string reason = run.Error is null ? exit.Failure : $"{run.Error} ({exit.Failure})";
            if (_aborting)
            {
                _interrupted++;
                Record(run.Trial, TrialStatus.Interrupted, run.Attempt, reason);
            }
            else if (run.Attempt <= _plan.Config.MaxFailures && !_outOfTime)
            {
                _retries.Enqueue((run.Trial, run.Attempt + 1));
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

    private void Dispatch()
    {
        while (_replyTo is not null && !_aborting && !_outOfTime && _free.Count > 0
               && (_plan.Config.MaxConcurrentTrials == 0 || _running.Count < _plan.Config.MaxConcurrentTrials))
        {
            var (trial, attempt) = _retries.Count > 0 ? _retries.Dequeue() : NextNew();
            if (trial is null) break;
            var (worker, slot) = _free.Dequeue();
            Record(trial, TrialStatus.Running, attempt, null);
            var spec = new TrialSpec(_plan.Config.Source, trial.Model, trial.Params, _plan.Config.Resources.CpusPerTrial, _plan.Data);
            var id = new AttemptId(_plan.SweepId, trial.Index, attempt);
            worker.Tell(new RunTrial(id, spec, slot));
            _running[trial.Index] = new Running(trial, id, worker);
        }
        bool nothingLeft = _aborting || _outOfTime || (_exhausted && _retries.Count == 0);
        if (_replyTo is not null && _running.Count == 0 && nothingLeft && !_finishing)
        {
            _finishing = true;
            _leaderboard.Tell(new Flush());   // replies Flushed once every earlier record is written
        }
    }

    /// <summary>The next trial not finished in an earlier run; finished ones are replayed into the search.</summary>
    private (TrialSuggestion?, int) NextNew()
    {
        while (!_exhausted)
        {
            var trial = _searcher.Next();
            if (trial is null) { _exhausted = true; break; }
            if (!_previous.TryGetValue(trial.Index, out var stored)) return (trial, 1);
            if (!TrialStatus.IsFinal(stored.Status)) return (trial with { Model = stored.Model, Params = stored.Params }, stored.Attempts + 1);
            if (stored.Objective is { } objective)
                _searcher.Observe(trial with { Model = stored.Model, Params = stored.Params }, _plan.Config.Experiment.Objective.Maximize ? objective : -objective);
        }
        return (null, 0);
    }

    private void Record(TrialSuggestion trial, string status, int attempt, string? note) =>
        _leaderboard.Tell(new RecordTrial(_plan.SweepId, trial.Index, trial.Model, trial.Params, status, attempt, note));

    public static Props Props(SweepPlan plan, IActorRef leaderboard, IReadOnlyList<StoredTrial> previous) =>
        Akka.Actor.Props.Create(() => new SweepCoordinator(plan, leaderboard, previous));
}
