using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using RecCluster.Cluster.Protocol;
using RecCluster.Core.Config;

namespace RecCluster.Cluster.Workers;

/// <summary>
/// What a worker started with <c>--simulate-epoch-ms</c> runs instead of training (for benchmarks and demos; nothing is
/// trained): each trial runs its <c>n_epochs</c> hyperparameter (10 when the model has none), reporting the sweep's
/// objective metric every epoch on a curve <c>q · (1 − e^(−epoch/3))</c> whose quality q in [0.1, 0.6) is a hash of the
/// trial's hyperparameters, so the same trial scores the same on every worker and every attempt.
/// </summary>
public static class SimulatedTrialPlan
{
    public const int DefaultEpochs = 10;

    /// <summary>The objective metric of each submitted sweep text, parsed once per text.</summary>
    private static readonly ConcurrentDictionary<string, string> Metrics = new();

    /// <summary>A launcher of simulated trials on .NET timers, one epoch every <paramref name="epochDuration"/>.</summary>
    public static SimulatedTrialLauncher Launcher(TimeSpan epochDuration) => new(null, epochDuration, For);

    public static SimulatedTrial For(RunTrial run)
    {
        var spec = run.Spec;
        int epochs = spec.Params.TryGetValue("n_epochs", out var n) && n is ParamValue.Int i ? (int)Math.Clamp(i.Value, 1, 100_000) : DefaultEpochs;
        var metric = Metrics.GetOrAdd(spec.Sweep.Text, _ => ExperimentLoader.LoadSweep(spec.Sweep).Experiment.Objective.Metric);
        var key = string.Join(";", spec.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        double quality = 0.1 + 0.5 * (BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes($"{spec.Model}|{key}"))) / (uint.MaxValue + 1.0));
        return new SimulatedTrial(metric, epoch => quality * (1 - Math.Exp(-epoch / 3.0)), epochs);
    }
}
