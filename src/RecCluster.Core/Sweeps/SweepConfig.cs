using RecCluster.Core.Config;

namespace RecCluster.Core.Sweeps;

public enum SearchAlgorithm { Grid, Random, Tpe }

/// <summary>
/// grid: every combination of grid values, repeated <see cref="NumTrials"/> times (other spaces are drawn anew
/// each trial); random: <see cref="NumTrials"/> independent draws; tpe: Tree-structured Parzen Estimator.
/// </summary>
public sealed record SearchConfig(SearchAlgorithm Algorithm, int NumTrials, int Seed);

public enum SchedulerKind { Fifo, Asha, Median }

/// <summary>Early-stopping rule applied to the intermediate validation objective (reported every eval_step epochs).</summary>
public sealed record SchedulerConfig(SchedulerKind Kind, int GracePeriod = 1, double ReductionFactor = 3, int MaxT = 100, int MinSamples = 3);

public sealed record ResourcesConfig(double GpusPerTrial, int CpusPerTrial);

/// <summary>One model and the search space of its hyperparameters as written (unlisted ones take defaults).</summary>
public sealed record ModelSpace(string Name, IReadOnlyDictionary<string, Domain> Space)
{
    public bool IsFixed => Space.Values.All(d => d is FixedDomain);

    public TrialParameters Resolve(IReadOnlyDictionary<string, ParamValue> values) => TrialParameters.Resolve(Name, values);
}

/// <summary>
/// A sweep: the experiment sections shared with train configs plus search, scheduling and resources, and the text
/// it was parsed from.
/// </summary>
public sealed record SweepConfig(
    ExperimentConfig Experiment,
    IReadOnlyList<ModelSpace> Models,
    SearchConfig Search,
    SchedulerConfig Scheduler,
    ResourcesConfig Resources,
    int MaxConcurrentTrials,
    int MaxFailures,
    double? TimeBudgetSeconds,
    SweepSource Source)
{
    /// <summary>The sweep's id: its name and a hash of its text.</summary>
    public string Id => Source.IdFor(Experiment.Name);

    /// <summary>The experiment one trial runs: this sweep's sections with one model and the values drawn for it.</summary>
    public ExperimentConfig TrialExperiment(string model, IReadOnlyDictionary<string, ParamValue> values) =>
        Experiment with { Models = [new ModelConfig(model, TrialParameters.Resolve(model, values))] };
}

/// <summary>The command a config file is for: <c>train</c> (one trial, no sweep sections) or <c>sweep</c>.</summary>
public enum ConfigKind { Train, Sweep }

/// <summary>A file that <c>validate</c> accepted: the command it is for and, for a sweep, what <c>train</c> would refuse in it.</summary>
public sealed record ConfigVerdict(SweepConfig Sweep, ConfigKind Kind, IReadOnlyList<ConfigError> NotATrainConfig);
