using System.CommandLine;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;

namespace RecCluster.Cli;

public static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("config") { Description = "Train config or sweep YAML file to check." };
        var command = new Command("validate", "Check a train config or sweep file without running it: every problem at once as file:line:col: message (exit code 2).");
        command.Arguments.Add(file);
        command.SetAction(parse => Errors.Guard(() =>
        {
            var path = parse.GetValue(file)!;
            var (sweep, source) = ExperimentLoader.Parse(path.FullName, sweep: true);
            if (source.Errors.Count > 0) throw new ConfigException(source.Errors);
            var objective = sweep!.Experiment.Objective.Metric;
            if (sweep.Models is [{ IsFixed: true } single])
                Console.WriteLine($"{path.Name}: valid train config ({single.Name}, objective {objective}); as a sweep it is one trial");
            else
            {
                var searcher = Searchers.Create(sweep.Models, sweep.Search);
                Console.WriteLine($"{path.Name}: valid sweep ({string.Join(", ", sweep.Models.Select(m => m.Name))}; {sweep.Search.Algorithm.ToString().ToLowerInvariant()} search, " +
                    $"{searcher.Total} trials; {sweep.Scheduler.Kind.ToString().ToLowerInvariant()} scheduler; objective {objective})");
            }
            return Errors.Ok;
        }));
        return command;
    }
}
