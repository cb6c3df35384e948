using System.CommandLine;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;
using RecCluster.Training;

namespace RecCluster.Cli;

public static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("config") { Description = "Train config or sweep YAML file to check." };
        var command = new Command("validate",
            "Check a train config or sweep file and its data without running it: says which command the file is for, " +
            "or lists every problem at once as file:line:col: message (exit code 2).");
        command.Arguments.Add(file);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            var path = parse.GetValue(file)!;
            var output = parse.InvocationConfiguration.Output;
            ImportWarnings.Print(path.FullName, parse.InvocationConfiguration.Error);
            var verdict = ExperimentLoader.Validate(path.FullName, data => TrialRunner.LoadData(data));
            var sweep = verdict.Sweep;
            var objective = sweep.Experiment.Objective.Metric;
            if (verdict.Kind == ConfigKind.Train)
            {
                output.WriteLine($"{path.Name}: valid train config for 'reccluster train' ({sweep.Models[0].Name}, objective {objective})");
                return Errors.Ok;
            }
            var searcher = Searchers.Create(sweep.Models, sweep.Search);
            output.WriteLine($"{path.Name}: valid sweep for 'reccluster sweep' ({string.Join(", ", sweep.Models.Select(m => m.Name))}; " +
                $"{sweep.Search.Algorithm.ToString().ToLowerInvariant()} search, {searcher.Total} trial(s); " +
                $"{sweep.Scheduler.Kind.ToString().ToLowerInvariant()} scheduler; objective {objective})");
            // One trial that train refuses: say why, since it may have been meant for train.
            if (sweep.Models is [{ IsFixed: true }])
                foreach (var problem in verdict.NotATrainConfig) output.WriteLine($"  not a train config: {problem}");
            return Errors.Ok;
        }));
        return command;
    }
}
