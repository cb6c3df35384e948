using RecCluster.Cluster.Protocol;
using RecCluster.Cluster.Workers;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cluster.Tests;

public sealed class SimulatedTrialPlanTests
{
    private static readonly SweepSource Sweep = new("bench.yaml", """
        name: bench
        data: {synthetic: {users: 10, items: 20, min_length: 5, max_length: 8}}
        evaluation: {cutoffs: [5], metrics: [hr]}
        objective: {metric: hr@5, mode: max}
        models:
          sasrec:
            learning_rate: {loguniform: [0.0001, 0.1]}
            n_epochs: 4
        search: {algorithm: random, num_trials: 3, seed: 1}
        """);

    private static RunTrial Run(int index, int attempt, Dictionary<string, ParamValue> values) =>
        new(new AttemptId("bench-1", index, attempt), new TrialSpec(Sweep, "sasrec", values, 1, []), new Slot("cpu0", null));

    [Fact]
    public void A_trial_runs_its_n_epochs_reporting_the_objective_with_a_score_its_parameters_decide()
    {
        var values = new Dictionary<string, ParamValue> { ["learning_rate"] = 0.01, ["n_epochs"] = 4L };
        var first = SimulatedTrialPlan.For(Run(0, 1, values));
        var again = SimulatedTrialPlan.For(Run(5, 2, new(values)));   // another attempt, elsewhere: the same trial
        var other = SimulatedTrialPlan.For(Run(1, 1, new() { ["learning_rate"] = 0.02, ["n_epochs"] = 4L }));

        Assert.Equal(("hr@5", 4), (first.Metric, first.Epochs));
        Assert.Equal(first.Score(3), again.Score(3));
        Assert.NotEqual(first.Score(3), other.Score(3));
        Assert.InRange(first.Score(4), 0.0, 0.6);
        Assert.True(first.Score(4) > first.Score(1));
        Assert.Equal(SimulatedTrialPlan.DefaultEpochs, SimulatedTrialPlan.For(Run(2, 1, new() { ["learning_rate"] = 0.01 })).Epochs);
    }
}
