using RecCluster.Core.Config;

namespace RecCluster.Training;

/// <summary>What a trial would start with: its data, the device it would use and the size of its model.</summary>
public sealed record TrialCheckResult(DataSummary Data, string Device, long Parameters);

/// <summary>A dry run of <see cref="TrialRunner.Run"/>: loads the data and builds the model, then stops before training.</summary>
public static class TrialCheck
{
    public static TrialCheckResult Run(ExperimentConfig config)
    {
        var model = config.Models.Single();
        var p = model.Parameters;
        var device = TorchRuntime.ResolveDevice(p.GetString("device"));
        var (data, _, trainingUsers, summary) = TrialRunner.PrepareData(config.Data, p);
        using var recommender = TrialRunner.CreateModel(model, data, config.Data, data.TrainItemCounts(trainingUsers), trainingUsers, device);
        return new TrialCheckResult(summary, device.type.ToString().ToLowerInvariant(), recommender.parameters().Sum(t => t.numel()));
    }
}
