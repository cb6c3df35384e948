using Akka.Actor;
using Akka.Cluster;
using Akka.Event;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Sweeps;

/// <param name="AdoptWithin">How long a restarted coordinator waits for workers to report an attempt the store says is
/// running before it runs the trial again as a new attempt (a few worker registration intervals; zero in local mode,
/// where no worker outlives the coordinator).</param>
public sealed record SweepTimings(TimeSpan AdoptWithin)
{
    public static readonly SweepTimings Local = new(TimeSpan.Zero);
}

/// <summary>
/// Owns the workers' slots and one <see cref="SweepCoordinator"/> child per active sweep: accepts, lists, reports on and
/// cancels sweeps, and routes worker reports to the sweep they name.
/// <para>
/// Slots are granted, not handed over: each coordinator tells the manager how many trials it could start now
/// (<see cref="SlotDemand"/>) and the manager gives each free slot to the next sweep, round-robin, that still wants one.
/// A coordinator keeps everything about its trials (search, scheduler, retries, concurrency limit); the manager decides
/// only who gets a slot, so fairness lives in one place and a sweep cannot hoard slots. A grant a coordinator can no
/// longer use (it was cancelled meanwhile) comes straight back with <see cref="SlotReleased"/>.
/// </para>
/// <para>
/// Workers register periodically; the manager watches each (a worker whose node leaves or is downed is lost: its sweeps
/// retry its attempts elsewhere). In cluster mode the manager is a cluster singleton that owns the leaderboard as its
/// child and, when it starts, resumes every sweep the store says has not ended; attempts still running on workers are
/// taken over (adopted) when those workers register, not run again.
/// </para>
/// </summary>
public sealed class SweepManager : ReceiveActor, IWithUnboundedStash
{
    private sealed class Sweep(IActorRef coordinator)
    {
        public IActorRef? Coordinator { get; set; } = coordinator;
        public SweepStatus? Ended { get; set; }
        public int Wanted { get; set; }
        public int GrantsSent { get; set; }
        public List<IActorRef> Watchers { get; } = [];
    }

    /// <summary>A registered worker: its node, its slots, and which are busy (with a grant or a running attempt).</summary>
    private sealed class Worker(string node, IReadOnlyList<Slot> slots)
    {
        public string Node { get; } = node;
        public IReadOnlyList<Slot> Slots { get; } = slots;
        public HashSet<Slot> Busy { get; } = [];
    }

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _leaderboard;
    private readonly SweepTimings _timings;
    private readonly Dictionary<string, Sweep> _sweeps = [];
    private readonly List<string> _order = [];   // submission order: the round-robin's cycle
    private readonly Dictionary<IActorRef, Worker> _workers = [];
    private int _turn, _coordinatorsStarted;

    public IStash Stash { get; set; } = null!;

    /// <summary>Local mode: the leaderboard is given, nothing to resume.</summary>
    public SweepManager(IActorRef leaderboard, SweepTimings timings)
    {
        (_leaderboard, _timings) = (leaderboard, timings);
        Ready();
    }

    /// <summary>Cluster mode: the manager owns the leaderboard and first resumes the sweeps the store holds unfinished.</summary>
    public SweepManager(LeaderboardSettings store, SweepTimings timings)
    {
        _timings = timings;
        _leaderboard = Context.ActorOf(LeaderboardActor.Props(store), "leaderboard");
        _leaderboard.Tell(new QueryUnfinishedSweeps());
        Receive<UnfinishedSweeps>(unfinished =>
        {
            foreach (var sweep in unfinished.Sweeps) Resume(sweep);
            Become(Ready);
            Stash.UnstashAll();
        });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Ready()
    {
        Receive<SubmitSweep>(OnSubmit);
        Receive<ListSweeps>(_ => AskAll());
        Receive<GetSweepStatus>(m => ToSweep(m.SweepId, m));
        Receive<CancelSweep>(m => ToSweep(m.SweepId, m));
        // Watchers wait here, not at the coordinator, which may be stopping with messages still in its mailbox.
        Receive<WatchSweep>(m =>
        {
            if (!_sweeps.TryGetValue(m.SweepId, out var sweep)) Sender.Tell(new UnknownSweep(m.SweepId));
            else if (sweep.Ended is { } ended) Sender.Tell(new SweepFinished(ended.Summary, ended.State));
            else sweep.Watchers.Add(Sender);
        });
        Receive<RegisterWorker>(OnRegister);
        Receive<Terminated>(t => WorkerGone(t.ActorRef));
        // Reports keep their sender (the worker), which the coordinator acknowledges. A report for a sweep this manager does
        // not run (it ended) is acknowledged here, so the worker stops sending it. One from a worker not registered (yet)
        // waits: it is sent again until acknowledged, and by then its worker has registered, superseding any earlier
        // incarnation, so an attempt given up with its node is never taken for a running one.
        Receive<ITrialReport>(m =>
        {
            if (!_workers.ContainsKey(Sender)) return;
            if (_sweeps.GetValueOrDefault(m.Id.SweepId)?.Coordinator is { } coordinator) coordinator.Forward(m);
            else Sender.Tell(new ReportsAcked(m.Id, m.Seq));
        });
        Receive<SlotDemand>(m =>
        {
            if (!_sweeps.TryGetValue(m.SweepId, out var sweep)) return;
            sweep.Wanted = Math.Max(0, m.Wanted - (sweep.GrantsSent - m.GrantsSeen));
            Grant();
        });
        Receive<SlotReleased>(m =>
        {
            // A release from a lost worker's slot is moot: its slots went with it.
            if (_workers.TryGetValue(m.Worker, out var worker)) worker.Busy.Remove(m.Slot);
            Grant();
        });
        Receive<SweepEnded>(m =>
        {
            var sweep = _sweeps[m.Status.Summary.SweepId];
            (sweep.Ended, sweep.Wanted) = (m.Status, 0);
            // Stopped behind the messages already queued for it (a slot grant it will hand back), not ahead of them.
            Sender.Tell(PoisonPill.Instance);
            sweep.Coordinator = null;
            foreach (var watcher in sweep.Watchers) watcher.Tell(new SweepFinished(m.Status.Summary, m.Status.State));
            sweep.Watchers.Clear();
        });
        AnswerClients();
    }

    /// <summary>
    /// Client queries beyond the sweeps': the leaderboard's (forwarded, so the reply goes straight to the asker) and the
    /// cluster's state. Clients (the HTTP API) then need one ref, this manager's.
    /// </summary>
    private void AnswerClients()
    {
        Receive<QuerySweeps>(m => _leaderboard.Forward(m));
        Receive<QueryTrials>(m => _leaderboard.Forward(m));
        Receive<QueryTop>(m => _leaderboard.Forward(m));
        Receive<QueryHistory>(m => _leaderboard.Forward(m));
        Receive<QueryGroups>(m => _leaderboard.Forward(m));
        Receive<GetClusterState>(_ => Sender.Tell(ClusterState()));
    }

    /// <summary>Slots per registered worker (busy: granted or running an attempt) and, on a cluster node, the members.</summary>
    private ClusterState ClusterState()
    {
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        var members = provider is ClusterActorRefProvider
            ? Akka.Cluster.Cluster.Get(Context.System).State.Members
                .Select(m => new ClusterMember(m.Address.ToString(), [.. m.Roles.Order()], m.Status.ToString().ToLowerInvariant())).ToList()
            : [];
        var workers = _workers.Select(w =>
        {
            var node = (w.Key.Path.Address.HasLocalScope ? provider.DefaultAddress : w.Key.Path.Address).ToString();
            var roles = members.FirstOrDefault(m => m.Address == node)?.Roles ?? [];
            int total = w.Value.Slots.Count, busy = w.Value.Busy.Count;
            int gpus = w.Value.Slots.SelectMany(s => s.CudaDevices?.Split(',', StringSplitOptions.TrimEntries) ?? []).Distinct().Count();
            return new WorkerSlots(node, w.Key.Path.ToStringWithoutAddress(), roles, total, busy, total - busy, gpus);
        }).OrderBy(w => w.Node, StringComparer.Ordinal).ThenBy(w => w.Worker, StringComparer.Ordinal).ToList();
        return new ClusterState(workers, members);
    }

    private void OnSubmit(SubmitSweep submit)
    {
        SweepConfig config;
        IReadOnlyList<DataFile> data;
        try
        {
            config = ExperimentLoader.LoadSweep(submit.Source);
            data = DataFile.Of(config.Experiment.Data);   // the hashes every attempt is checked against
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException)
        {
            Sender.Tell(new SweepRejected(e.Message));
            return;
        }
        // A sweep submitted again while it runs is the same sweep; after it ended, submitting it again resumes it.
        if (!_sweeps.TryGetValue(config.Id, out var sweep) || sweep.Ended is not null) Start(config, data);
        Sender.Tell(new SweepAccepted(config.Id));
    }

    /// <summary>Starts a coordinator for a sweep the store holds unfinished, with the data hashes recorded at submission.</summary>
    private void Resume(UnfinishedSweep stored)
    {
        try
        {
            Start(ExperimentLoader.LoadSweep(stored.Source), stored.Data);
            _log.Info("resuming sweep {0} from the store", stored.Id);
        }
        catch (ConfigException e)
        {
            // The text was valid when submitted; a newer version may read it differently. Say so and leave it be.
            _log.Error("cannot resume sweep {0}: {1}", stored.Id, string.Join("; ", e.Errors));
        }
    }

    private void Start(SweepConfig config, IReadOnlyList<DataFile> data)
    {
        var props = SweepCoordinator.Props(config, data, _leaderboard, _timings);
        var coordinator = Context.ActorOf(props, $"coordinator-{config.Id}-{++_coordinatorsStarted}");
        if (!_sweeps.ContainsKey(config.Id)) _order.Add(config.Id);
        _sweeps[config.Id] = new Sweep(coordinator);
    }

    /// <summary>
    /// A worker new to this manager (just started, or this manager just started) brings its slots and the attempts it
    /// holds, which go to their sweeps to be taken over; a known one only says it is still there.
    /// </summary>
    private void OnRegister(RegisterWorker m)
    {
        if (_workers.ContainsKey(m.Worker)) return;
        // The same worker actor with a new uid: its node started a new actor system (to rejoin after being downed or cut off).
        // The old incarnation is gone, however late DeathWatch says so: its attempts are given up before the new one's
        // held attempts are offered for takeover.
        var path = m.Worker.Path;
        foreach (var old in _workers.Keys.Where(w => w.Path.Address.Equals(path.Address) && w.Path.Elements.SequenceEqual(path.Elements)
                     && w.Path.Uid != path.Uid).ToList())
            WorkerGone(old);
        var worker = new Worker(m.Node, m.Slots);
        _workers[m.Worker] = worker;
        Context.Watch(m.Worker);
        _log.Info("worker {0} registered {1} slot(s), holding {2} attempt(s)", m.Node, m.Slots.Count, m.Held.Count);
        foreach (var held in m.Held)
        {
            if (!held.Exited) worker.Busy.Add(held.Slot);
            if (_sweeps.GetValueOrDefault(held.Id.SweepId)?.Coordinator is { } coordinator)
                coordinator.Tell(new AdoptAttempt(m.Worker, m.Node, held));
            else
                m.Worker.Tell(new StopTrial(held.Id, Immediately: true));   // its sweep ended: nobody wants it
        }
        Grant();
    }

    private void WorkerGone(IActorRef worker)
    {
        if (!_workers.Remove(worker, out var lost)) return;
        var active = _sweeps.Values.Where(s => s.Coordinator is not null).ToList();
        _log.Log(active.Count > 0 ? LogLevel.WarningLevel : LogLevel.InfoLevel,
            $"worker {lost.Node} is gone; its attempts go back to their sweeps' queues");
        foreach (var sweep in active) sweep.Coordinator!.Tell(new WorkerLost(worker, lost.Node));
    }

    /// <summary>Forwards a status or cancel request to the sweep's coordinator, or answers with the status a sweep ended in.</summary>
    private void ToSweep(string id, IProtocolMessage message)
    {
        if (!_sweeps.TryGetValue(id, out var sweep)) Sender.Tell(new UnknownSweep(id));
        else if (sweep.Coordinator is { } coordinator) coordinator.Forward(message);
        else Sender.Tell(sweep.Ended);
    }

    private void AskAll()
    {
        var replyTo = Sender;
        var statuses = _order.Select(id => _sweeps[id].Coordinator is { } c
            ? c.Ask<SweepStatus>(new GetSweepStatus(id), TimeSpan.FromSeconds(10)) : Task.FromResult(_sweeps[id].Ended!));
        Task.WhenAll(statuses).PipeTo(replyTo, success: all => new SweepList(all));
    }

    /// <summary>Gives each free slot to the next sweep in the cycle that wants one.</summary>
    private void Grant()
    {
        while (FreeSlot() is { } free && NextWanting() is { } id)
        {
            var sweep = _sweeps[id];
            var (workerRef, worker, slot) = free;
            worker.Busy.Add(slot);
            sweep.Wanted--;
            sweep.GrantsSent++;
            sweep.Coordinator!.Tell(new SlotGranted(workerRef, slot, worker.Node));
        }
    }

    /// <summary>A free slot on the worker with the most free slots (spreads trials over nodes).</summary>
    private (IActorRef Ref, Worker Worker, Slot Slot)? FreeSlot()
    {
        var best = _workers.Where(w => w.Value.Busy.Count < w.Value.Slots.Count)
            .OrderByDescending(w => w.Value.Slots.Count - w.Value.Busy.Count).ThenBy(w => w.Value.Node, StringComparer.Ordinal)
            .Select(w => ((IActorRef, Worker)?)(w.Key, w.Value)).FirstOrDefault();
        if (best is not { } found) return null;
        return (found.Item1, found.Item2, found.Item2.Slots.First(s => !found.Item2.Busy.Contains(s)));
    }

    private string? NextWanting()
    {
        for (int k = 0; k < _order.Count; k++)
        {
            var id = _order[(_turn + k) % _order.Count];
            if (_sweeps[id] is { Wanted: > 0, Coordinator: not null })
            {
                _turn = (_turn + k + 1) % _order.Count;
                return id;
            }
        }
        return null;
    }

    public static Props Props(IActorRef leaderboard) => Akka.Actor.Props.Create(() => new SweepManager(leaderboard, SweepTimings.Local));

    /// <summary>The cluster's manager (a singleton on the coordinator role), owning the leaderboard in <paramref name="store"/>.</summary>
    public static Props Props(LeaderboardSettings store, SweepTimings timings) =>
        Akka.Actor.Props.Create(() => new SweepManager(store, timings));
}
