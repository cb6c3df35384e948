using Akka.Actor;
using Akka.Cluster;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Sweeps;

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
/// </summary>
public sealed class SweepManager : ReceiveActor
{
    private sealed class Sweep(IActorRef coordinator)
    {
        public IActorRef? Coordinator { get; set; } = coordinator;
        public SweepStatus? Ended { get; set; }
        public int Wanted { get; set; }
        public int GrantsSent { get; set; }
        public List<IActorRef> Watchers { get; } = [];
    }

    private readonly IActorRef _leaderboard;
    private readonly Dictionary<string, Sweep> _sweeps = [];
    private readonly List<string> _order = [];   // submission order: the round-robin's cycle
    private readonly Queue<(IActorRef Worker, Slot Slot)> _free = new();
    private int _turn, _coordinatorsStarted;
    private readonly Dictionary<IActorRef, HashSet<string>> _workerSlots = [];   // every slot a worker registered, by id

    public SweepManager(IActorRef leaderboard)
    {
        _leaderboard = leaderboard;
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
        Receive<RegisterWorker>(m =>
        {
            NoteWorker(m);
            foreach (var slot in m.Slots) _free.Enqueue((m.Worker, slot));
            Grant();
        });
        Receive<TrialReported>(m => _sweeps.GetValueOrDefault(m.Id.SweepId)?.Coordinator?.Forward(m));
        Receive<TrialExited>(m => _sweeps.GetValueOrDefault(m.Id.SweepId)?.Coordinator?.Forward(m));
        Receive<SlotDemand>(m =>
        {
            if (!_sweeps.TryGetValue(m.SweepId, out var sweep)) return;
            sweep.Wanted = Math.Max(0, m.Wanted - (sweep.GrantsSent - m.GrantsSeen));
            Grant();
        });
        Receive<SlotReleased>(m =>
        {
            _free.Enqueue((m.Worker, m.Slot));
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

    private void NoteWorker(RegisterWorker register)
    {
        if (!_workerSlots.TryGetValue(register.Worker, out var ids)) _workerSlots[register.Worker] = ids = [];
        ids.UnionWith(register.Slots.Select(s => s.Id));
    }

    /// <summary>Slots per worker (free: waiting in the queue; busy: the rest) and, on a cluster node, the members.</summary>
    private ClusterState ClusterState()
    {
        var provider = ((ExtendedActorSystem)Context.System).Provider;
        var members = provider is ClusterActorRefProvider
            ? Akka.Cluster.Cluster.Get(Context.System).State.Members
                .Select(m => new ClusterMember(m.Address.ToString(), [.. m.Roles.Order()], m.Status.ToString().ToLowerInvariant())).ToList()
            : [];
        var workers = _workerSlots.Select(w =>
        {
            int free = _free.Count(f => f.Worker.Equals(w.Key));
            var node = (w.Key.Path.Address.HasLocalScope ? provider.DefaultAddress : w.Key.Path.Address).ToString();
            var roles = members.FirstOrDefault(m => m.Address == node)?.Roles ?? [];
            int total = w.Value.Count;
            return new WorkerSlots(node, w.Key.Path.ToStringWithoutAddress(), roles, total, Math.Max(0, total - free), free);
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
        if (!_sweeps.TryGetValue(config.Id, out var sweep) || sweep.Ended is not null)
        {
            var props = SweepCoordinator.Props(config, data, _leaderboard);
            var coordinator = Context.ActorOf(props, $"coordinator-{config.Id}-{++_coordinatorsStarted}");
            if (sweep is null) _order.Add(config.Id);
            _sweeps[config.Id] = new Sweep(coordinator);
        }
        Sender.Tell(new SweepAccepted(config.Id));
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
        while (_free.Count > 0 && NextWanting() is { } id)
        {
            var sweep = _sweeps[id];
            var (worker, slot) = _free.Dequeue();
            sweep.Wanted--;
            sweep.GrantsSent++;
            sweep.Coordinator!.Tell(new SlotGranted(worker, slot));
        }
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

    public static Props Props(IActorRef leaderboard) => Akka.Actor.Props.Create(() => new SweepManager(leaderboard));
}
