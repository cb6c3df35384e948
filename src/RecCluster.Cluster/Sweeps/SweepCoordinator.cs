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

    /// <summary>Internal timer tick: attempts the store says were running and no worker reported are given up.</summary>
    private sealed record AdoptionDeadline : INoSerializationVerificationNeeded;

    private enum StopReason { Pruned, MaxT, TimeBudget }

    private sealed class Running(TrialSuggestion trial, AttemptId id, IActorRef worker)
    {
        public TrialSuggestion Trial { get; } = trial;
        public AttemptId Id { get; } = id;
        public int Attempt => Id.Attempt;
        /// <summary>The worker holding the attempt: it changes when the worker's node starts a new actor system.</summary>
        public IActorRef Worker { get; set; } = worker;
        public StopReason? StopReason { get; set; }
        public string? Error { get; set; }
        /// <summary>The last report number handled (reports are handled once each, in order).</summary>
        public long Handled { get; set; }
        /// <summary>The last epoch recorded for this attempt; a report of it again (after a takeover) is not counted twice.</summary>
        public int LastEpoch { get; set; }
        public bool Finished { get; set; }
        /// <summary>False for an attempt taken over after its process ended: its slot was free when its worker registered.</summary>
        public bool HoldsSlot { get; init; } = true;
    }

    /// <summary>An attempt the store says was running when this coordinator started, waiting for its worker to report it.</summary>
    private sealed record Orphan(TrialSuggestion Trial, int Attempt, int LastEpoch);

    private readonly SweepConfig _config;
    private readonly IActorRef _leaderboard;
    private readonly ISearcher _searcher;
    private readonly ITrialScheduler _scheduler;
    private readonly Queue<(TrialSuggestion Trial, int Attempt)> _queued = new();
    private readonly Dictionary<int, Running> _running = [];
    private readonly Dictionary<int, Orphan> _orphans = [];
    // Attempts refused at takeover, until their exit frees the slot they hold.
    private readonly Dictionary<AttemptId, (IActorRef Worker, Slot Slot)> _refused = [];
    private readonly SweepTimings _timings;
    private SweepPlan _plan = null!;
    private SweepState _state = SweepState.Queued;
    private bool _exhausted, _cancelled, _outOfTime, _finishing;
    private int _drawn, _completed, _pruned, _failed, _interrupted, _grantsSeen;
    private (int Wanted, int GrantsSeen)? _demandSent;
    private long _epochs;

    public ITimerScheduler Timers { get; set; } = null!;
    public IStash Stash { get; set; } = null!;

    public SweepCoordinator(SweepConfig config, IReadOnlyList<DataFile> data, IActorRef leaderboard, SweepTimings timings)
    {
        _config = config;
        _leaderboard = leaderboard;
        _timings = timings;
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
            if (_orphans.Count > 0) Timers.StartSingleTimer("adopt", new AdoptionDeadline(), _timings.AdoptWithin);
            Dispatch();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Active()
    {
        Receive<SlotGranted>(OnGrant);
        Receive<TrialReported>(report => { if (Accept(report) is { } run) OnReport(run, report); });
        Receive<TrialExited>(exit => { if (Accept(exit) is { } run) OnExit(run, exit); });
        Receive<AdoptAttempt>(OnAdopt);
        Receive<WorkerLost>(lost =>
        {
            foreach (var run in _running.Values.Where(r => r.Worker.Equals(lost.Worker)).ToList())
            {
                _running.Remove(run.Id.Index);
                AttemptFailed(run, $"its node {lost.Node} was lost");
            }
            foreach (var id in _refused.Where(r => r.Value.Worker.Equals(lost.Worker)).Select(r => r.Key).ToList()) _refused.Remove(id);
            Dispatch();
        });
        Receive<AdoptionDeadline>(_ =>
        {
            foreach (var (index, orphan) in _orphans.ToList())
            {
                _orphans.Remove(index);
                var reason = $"no worker reported attempt {orphan.Attempt} within {_timings.AdoptWithin.TotalSeconds:F0}s of a coordinator restart";
                AttemptFailed(orphan.Trial, orphan.Attempt, null, reason);
            }
            Dispatch();
        });
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
            foreach (var (index, orphan) in _orphans.ToList())
            {
                _orphans.Remove(index);
                _interrupted++;
                Record(orphan.Trial, TrialStatus.Interrupted, orphan.Attempt, "the sweep was cancelled");
            }
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
    /// rungs hold what they held), and trials not finished (pending, interrupted) are queued as a new attempt, which
    /// counts against max_failures like any other. Trials stored as running are orphans: their workers may hold them still
    /// and report them when they register (<see cref="AdoptAttempt"/>); those not reported within the adoption window run
    /// again as a new attempt.
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
            if (previous.Status == TrialStatus.Running && _timings.AdoptWithin > TimeSpan.Zero)
            {
                int lastEpoch = registered.Epochs.GetValueOrDefault(trial.Index)?.Where(e => e.Attempt == previous.Attempts)
                    .Select(e => e.Epoch).DefaultIfEmpty(0).Max() ?? 0;
                _orphans[trial.Index] = new Orphan(trial, previous.Attempts, lastEpoch);
                continue;
            }
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
            Record(trial, TrialStatus.Running, attempt, null, grant.Node);
            var spec = new TrialSpec(_config.Source, trial.Model, trial.Params, _config.Resources.CpusPerTrial, _plan.Data);
            var id = new AttemptId(_plan.SweepId, trial.Index, attempt);
            // A retry continues from the checkpoint an earlier attempt left in the shared storage, if any.
            grant.Worker.Tell(new RunTrial(id, spec, grant.Slot, Resume: attempt > 1));
            _running[trial.Index] = new Running(trial, id, grant.Worker);
        }
        else Context.Parent.Tell(new SlotReleased(grant.Worker, grant.Slot));
        Dispatch();
    }

    private (TrialSuggestion Trial, int Attempt)? NextTrial() =>
        _queued.Count > 0 ? _queued.Dequeue() : Draw() is { } fresh ? (fresh, 1) : null;

    /// <summary>
    /// The running attempt a report is about when it is the next one to handle. Null for a report handled before
    /// (acknowledged again), one that came early (an earlier one is missing: it will be sent again, then this one), or one
    /// about an attempt no longer running (a late report of one given up on: acknowledged, so the worker drops it).
    /// </summary>
    private Running? Accept(ITrialReport report)
    {
        if (Current(report.Id) is not { } run)
        {
            if (report is TrialExited && _refused.Remove(report.Id, out var refused))
                Context.Parent.Tell(new SlotReleased(refused.Worker, refused.Slot));
            Acknowledge(report.Id, report.Seq);
            return null;
        }
        if (report.Seq > run.Handled + 1) return null;
        if (report.Seq == run.Handled + 1)
        {
            run.Handled = report.Seq;
            return run;
        }
        Acknowledge(report.Id, run.Handled);
        return null;
    }

    /// <summary>The acknowledgement goes to the worker through the leaderboard, behind the records the report caused.</summary>
    private void Acknowledge(AttemptId id, long upTo) => _leaderboard.Tell(new AfterWrites(Sender, new ReportsAcked(id, upTo)));

    /// <summary>
    /// A worker holds an attempt of this sweep (it registered after this coordinator or its own node restarted): take it
    /// over when it is the attempt this coordinator waits for or runs, otherwise stop it.
    /// </summary>
    private void OnAdopt(AdoptAttempt adopt)
    {
        var id = adopt.Attempt.Id;
        if (Current(id) is { } running)
        {
            running.Worker = adopt.Worker;
            return;
        }
        if (_orphans.TryGetValue(id.Index, out var orphan) && orphan.Attempt == id.Attempt)
        {
            _orphans.Remove(id.Index);
            var run = new Running(orphan.Trial, id, adopt.Worker)
            {
                Handled = adopt.Attempt.Acked, LastEpoch = orphan.LastEpoch, HoldsSlot = !adopt.Attempt.Exited,
            };
            _running[id.Index] = run;
            _state = SweepState.Running;
            Record(orphan.Trial, TrialStatus.Running, id.Attempt, "taken over after a coordinator restart", adopt.Node);
            if (_outOfTime)
            {
                run.StopReason = StopReason.TimeBudget;
                run.Worker.Tell(new StopTrial(run.Id));
            }
            return;
        }
        if (!adopt.Attempt.Exited) _refused[id] = (adopt.Worker, adopt.Attempt.Slot);
        adopt.Worker.Tell(new StopTrial(id, Immediately: true));
    }

    private void OnReport(Running run, TrialReported report)
    {
        var (index, attempt) = (report.Id.Index, report.Id.Attempt);
        switch (report.Event)
        {
            case TrialEpoch epoch when epoch.Epoch <= run.LastEpoch:
                break;   // recorded before a takeover
            case TrialEpoch epoch:
                run.LastEpoch = epoch.Epoch;
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
            case TrialFinished when run.Finished:
                break;
            case TrialFinished result:
                run.Finished = true;
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
        Acknowledge(report.Id, report.Seq);
    }

    /// <summary>
    /// The running attempt a worker message is about, or null when it is about an attempt no longer running (a late
    /// message from one given up on; its slot was released then).
    /// </summary>
    private Running? Current(AttemptId id) => _running.TryGetValue(id.Index, out var run) && run.Id == id ? run : null;

    private void OnExit(Running run, TrialExited exit)
    {
        _running.Remove(exit.Id.Index);
        if (run.HoldsSlot) Context.Parent.Tell(new SlotReleased(run.Worker, exit.Slot));
        if (exit.Failure is not null) AttemptFailed(run, exit.Failure);
        Acknowledge(exit.Id, exit.Seq);
        Dispatch();
    }

    /// <summary>
    /// An attempt's process or node ended without a clean exit. A result it reported before stands (the trial is done and
    /// counted). One the scheduler had pruned stays pruned: run again, it would resume past the rung that stopped it.
    /// Otherwise the attempt failed.
    /// </summary>
    private void AttemptFailed(Running run, string failure)
    {
        if (run.Finished) return;
        if (run.StopReason == StopReason.Pruned)
        {
            _pruned++;
            Record(run.Trial, TrialStatus.Pruned, run.Attempt, $"pruned; its process ended before its result ({failure})");
            return;
        }
        AttemptFailed(run.Trial, run.Attempt, run.Error, failure);
    }

    /// <summary>An attempt ended without a result: the trial runs again (within max_failures), or failed, or was interrupted.</summary>
    private void AttemptFailed(TrialSuggestion trial, int attempt, string? error, string failure)
    {
        string reason = error is null ? failure : $"{error} ({failure})";
        if (_cancelled)
        {
            _interrupted++;
            Record(trial, TrialStatus.Interrupted, attempt, reason);
        }
        else if (attempt <= _config.MaxFailures && !_outOfTime)
        {
            _queued.Enqueue((trial, attempt + 1));
            Record(trial, TrialStatus.Pending, attempt, $"attempt {attempt} failed: {reason}; retrying");
        }
        else
        {
            _failed++;
            Record(trial, TrialStatus.Failed, attempt, $"attempt {attempt} failed: {reason}");
        }
    }

    /// <summary>How many more trials could start now: those queued or not drawn yet, within max_concurrent_trials.</summary>
    private int Wanted()
    {
        if (_cancelled || _outOfTime) return 0;
        int ready = _queued.Count + (_exhausted ? 0 : _searcher.Total - _drawn);
        int limit = _config.MaxConcurrentTrials;
        return limit == 0 ? ready : Math.Min(ready, Math.Max(0, limit - _running.Count - _orphans.Count));
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
        if (_running.Count == 0 && _orphans.Count == 0 && wanted == 0 && !_finishing)
        {
            _finishing = true;
            _leaderboard.Tell(new RecordSweepEnded(_plan.SweepId, _cancelled ? SweepState.Cancelled : SweepState.Finished));
            _leaderboard.Tell(new Flush());   // replies Flushed once every earlier record is written
        }
    }

    private SweepStatus Status() =>
        new(new SweepSummary(_plan.SweepId, _searcher.Total, _completed, _pruned, _failed, _interrupted, _epochs),
            _cancelled ? SweepState.Cancelled : _state);

    private void Record(TrialSuggestion trial, string status, int attempt, string? note, string? node = null) =>
        _leaderboard.Tell(new RecordTrial(_plan.SweepId, trial.Index, trial.Model, trial.Params, status, attempt, note, node));

    public static Props Props(SweepConfig config, IReadOnlyList<DataFile> data, IActorRef leaderboard, SweepTimings timings) =>
        Akka.Actor.Props.Create(() => new SweepCoordinator(config, data, leaderboard, timings));
}
