using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;

namespace RecCluster.Api;

/// <summary>The event types of <c>GET /api/events</c> (docs/dashboard.md describes their payloads).</summary>
public enum FeedEvent { Hello, Sweep, Trial, Epoch }

/// <summary>
/// The change feed behind <c>GET /api/events</c>: one producer polls the sweep manager (or the store reader) every
/// <see cref="Interval"/> while at least one client listens, compares with what it saw last and sends every client the
/// differences as Server-Sent Events: <c>sweep</c> (a sweep's status), <c>trial</c> (a stored trial changed) and <c>epoch</c> (a
/// new epoch row). Polling one place rather than subscribing to the leaderboard works the same over a cluster (where the
/// leaderboard moves with the manager singleton) and over a store another process writes; the cost is one round of queries per
/// interval, whatever the number of clients.
/// </summary>
public sealed class EventFeed : IAsyncDisposable
{
    /// <summary>Events a client may lag behind before it is dropped (it reconnects and reloads).</summary>
    private const int Backlog = 4096;

    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(15);
    private readonly Func<IActorRef?> _answerer;
    private readonly TimeSpan _askTimeout;
    private readonly TextWriter? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<Channel<string>> _clients = [];
    private readonly List<Channel<string>> _joining = [];   // subscribed, not yet said hello to
    private readonly Task _loop;

    // What the last poll saw; null: no baseline (nobody listened), so the next poll records one without sending anything.
    private Dictionary<string, string>? _sweeps;
    private readonly Dictionary<(string Sweep, int Trial), string> _trials = [];
    private readonly Dictionary<(string Sweep, int Trial), HashSet<(int Attempt, int Epoch)>> _epochsSeen = [];
    private DateTime _lastSent = DateTime.UtcNow;
    private string? _lastFailure;

    public EventFeed(Func<IActorRef?> answerer, TimeSpan interval, TimeSpan askTimeout, TextWriter? log)
    {
        (_answerer, Interval, _askTimeout, _log) = (answerer, interval, askTimeout, log);
        _loop = Task.Run(RunAsync);
    }

    public TimeSpan Interval { get; }

    /// <summary>
    /// A new client's queue of formatted events, which <paramref name="unsubscribe"/> gives back. It starts with <c>hello</c>,
    /// sent after the next poll: every change stored after that poll comes as an event, so a client that reads the API after its
    /// hello misses nothing (it may see a change both ways).
    /// </summary>
    public ChannelReader<string> Subscribe(out Action unsubscribe)
    {
        var channel = Channel.CreateBounded<string>(new BoundedChannelOptions(Backlog) { SingleReader = true });
        lock (_gate) _joining.Add(channel);
        unsubscribe = () =>
        {
            lock (_gate)
            {
                _clients.Remove(channel);
                _joining.Remove(channel);
            }
        };
        return channel.Reader;
    }

    public int Clients
    {
        get { lock (_gate) return _clients.Count + _joining.Count; }
    }

    /// <summary>One Server-Sent Event: its type and its JSON payload (snake_case, as every API answer).</summary>
    public static string Format(FeedEvent type, object payload) =>
        $"event: {type.ToString().ToLowerInvariant()}\ndata: {JsonSerializer.Serialize(payload, payload.GetType(), ApiJson.Options)}\n\n";

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                if (Clients == 0)
                {
                    _sweeps = null;   // nobody listens: keep no baseline, ask nothing
                    continue;
                }
                if (_answerer() is not { } answerer) continue;
                try
                {
                    var events = await PollAsync(answerer, _sweeps is null);
                    _lastFailure = null;
                    if (events.Count == 0 && DateTime.UtcNow - _lastSent > KeepAliveEvery) events.Add(": keep-alive\n\n");
                    Send(events);
                    Welcome();
                }
                catch (Exception e) when (!_stop.IsCancellationRequested)
                {
                    // The manager may be moving or restarting: say so once, and try again next tick.
                    var failure = $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
                    if (failure != _lastFailure) _log?.WriteLine($"http: the event feed could not poll: {failure}");
                    _lastFailure = failure;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    private void Send(List<string> events)
    {
        if (events.Count == 0) return;
        _lastSent = DateTime.UtcNow;
        lock (_gate)
            foreach (var client in _clients.ToList())
                foreach (var e in events)
                    if (!client.Writer.TryWrite(e))
                    {
                        // Too far behind: end its stream; the page reconnects and reloads what it shows.
                        client.Writer.TryComplete();
                        _clients.Remove(client);
                        break;
                    }
    }

    /// <summary>Says hello to the clients that joined before this round's poll: from now on they get its changes.</summary>
    private void Welcome()
    {
        var hello = Format(FeedEvent.Hello, new { IntervalMs = (int)Interval.TotalMilliseconds });
        lock (_gate)
        {
            foreach (var client in _joining) client.Writer.TryWrite(hello);
            _clients.AddRange(_joining);
            _joining.Clear();
        }
    }

    /// <summary>One round: every sweep's status; for sweeps not ended, their trials and the new epochs of trials that moved.</summary>
    private async Task<List<string>> PollAsync(IActorRef answerer, bool baseline)
    {
        var cancel = _stop.Token;
        var events = new List<string>();
        var previous = _sweeps ?? [];
        var seen = new Dictionary<string, string>();
        foreach (var status in (await answerer.Ask<SweepList>(new ListSweeps(), _askTimeout, cancel)).Sweeps)
        {
            var id = status.Summary.SweepId;
            var key = JsonSerializer.Serialize(status, ApiJson.Options);
            seen[id] = key;
            bool ended = status.State is SweepState.Finished or SweepState.Cancelled;
            // An ended sweep that was ended last time too has nothing new; one ended at the baseline has nothing to send.
            if (previous.TryGetValue(id, out var before) && before == key && ended) continue;
            if (baseline && ended) continue;
            var trials = (await answerer.Ask<StoredTrials>(new QueryTrials(id), _askTimeout, cancel)).Trials;
            foreach (var trial in trials)
            {
                var trialKey = JsonSerializer.Serialize(trial, ApiJson.Options);
                bool changed = !_trials.TryGetValue((id, trial.Index), out var was) || was != trialKey;
                _trials[(id, trial.Index)] = trialKey;
                if (changed && !baseline) events.Add(Format(FeedEvent.Trial, trial));
                if (changed || trial.Status == TrialStatus.Running) await NewEpochsAsync(answerer, id, trial.Index, baseline, events);
            }
            if (!baseline && before != key)
                events.Add(Format(FeedEvent.Sweep, await SweepReads.ViewAsync(answerer, status, trials, _askTimeout, cancel)));
        }
        _sweeps = seen;
        // Sweeps gone from the list (a store another process rewrote) leave nothing behind.
        foreach (var gone in _trials.Keys.Where(k => !seen.ContainsKey(k.Sweep)).ToList()) _trials.Remove(gone);
        foreach (var gone in _epochsSeen.Keys.Where(k => !seen.ContainsKey(k.Sweep)).ToList()) _epochsSeen.Remove(gone);
        return events;
    }

    private async Task NewEpochsAsync(IActorRef answerer, string sweep, int trial, bool baseline, List<string> events)
    {
        var rows = (await answerer.Ask<TrialHistory>(new QueryHistory(sweep, trial), _askTimeout, _stop.Token)).Epochs;
        if (!_epochsSeen.TryGetValue((sweep, trial), out var known)) _epochsSeen[(sweep, trial)] = known = [];
        // Rows are only ever added, but History orders them by attempt then epoch, so a late report of an earlier attempt lands
        // among the ones seen: new ones are those whose (attempt, epoch) was not seen, wherever they are.
        foreach (var row in rows)
            if (known.Add((row.Attempt, row.Epoch)) && !baseline)
                events.Add(Format(FeedEvent.Epoch, new EpochEvent(sweep, trial, row.Attempt, row.Epoch, row.Loss, row.Valid, row.Node)));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        lock (_gate)
        {
            foreach (var client in _clients.Concat(_joining)) client.Writer.TryComplete();
            _clients.Clear();
            _joining.Clear();
        }
        _stop.Dispose();
    }
}
