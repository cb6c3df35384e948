using System.CommandLine;
using RecCluster.Core.Config;

namespace RecCluster.Cli;

public static class ValidateCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("config") { Description = "Experiment YAML file to check." };
        var command = new Command("validate", "Check a config without running it: every problem at once as file:line:col: message (exit code 2).");
        command.Arguments.Add(file);
        command.SetAction(parse => Errors.Guard(() =>
        {
            var config = ExperimentLoader.LoadTrial(parse.GetValue(file)!.FullName);
            var model = config.Models[0];
            Console.WriteLine($"{parse.GetValue(file)!.Name}: valid ({model.Name}, {model.Parameters.Values.Count} hyperparameters, objective {config.Objective.Metric})");
            return Errors.Ok;
        }));
        return command;
    }
}
