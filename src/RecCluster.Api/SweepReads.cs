using Akka.Actor;
using RecCluster.Cluster.Leaderboard;
using RecCluster.Cluster.Protocol;

namespace RecCluster.Api;

/// <summary>
/// Reads the API and its event feed both make of whatever answers them (a sweep manager, or a <see cref="StoreReader"/>).
/// </summary>
public static class SweepReads
{
    /// <summary>The manager's counts, with the running trials and the best one from the store.</summary>
    public static async Task<SweepView> ViewAsync(IActorRef answerer, SweepStatus status, IReadOnlyList<StoredTrial> trials,
        TimeSpan timeout, CancellationToken cancel)
    {
        var id = status.Summary.SweepId;
        // A sweep just submitted may not be recorded yet: no best trial then.
        var sweep = (await answerer.Ask<SweepRows>(new QuerySweeps(), timeout, cancel)).Sweeps.FirstOrDefault(s => s.Id == id);
        var best = sweep is null ? null
            : (await answerer.Ask<LeaderboardRows>(new QueryTop(id, sweep.ObjectiveMetric, sweep.Maximize, 1), timeout, cancel)).Rows
            .FirstOrDefault();
        return SweepView.Of(status, trials, sweep?.ObjectiveMetric, best);
    }

    /// <summary>Every trial's epochs, for learning curves; the metric is the sweep's objective.</summary>
    /// <exception cref="LeaderboardQueryException">Unknown sweep.</exception>
    public static async Task<CurvesView> CurvesAsync(IActorRef answerer, string sweepId, string where, TimeSpan timeout,
        CancellationToken cancel)
    {
        var request = new LeaderboardRequest(sweepId, AllTrials: true);
        var trials = (TrialsReport)await LeaderboardQuery.RunAsync(answerer, request, where, timeout);
        var sweeps = (await answerer.Ask<SweepRows>(new QuerySweeps(), timeout, cancel)).Sweeps;
        var metric = sweeps.First(s => s.Id == sweepId).ObjectiveMetric;
        var curves = new List<TrialCurve>();
        foreach (var t in trials.Trials)
            curves.Add(new TrialCurve(t.Index, t.Status, t.BestEpoch, t.EpochsRun,
                (await answerer.Ask<TrialHistory>(new QueryHistory(sweepId, t.Index), timeout, cancel)).Epochs));
        return new CurvesView(sweepId, metric, curves);
    }
}
