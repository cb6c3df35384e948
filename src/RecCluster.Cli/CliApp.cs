using System.CommandLine;

namespace RecCluster.Cli;

/// <summary>The <c>reccluster</c> command line. Commands write to the invocation's writers, so tests run it in-process.</summary>
public static class CliApp
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var parse = Create().Parse(args);
        // A mistyped flag or a bad flag value is bad input (exit 2), like a bad config file.
        if (parse.Errors.Count > 0 && !args.Any(a => a is "--help" or "-h" or "-?"))
        {
            foreach (var problem in parse.Errors) error.WriteLine($"error: {problem.Message}");
            error.WriteLine("add --help for the command's usage");
            return Errors.InvalidInput;
        }
        return parse.Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>Parses without running: what the deploy files' consistency tests ask of their command lines.</summary>
    public static ParseResult Parse(string[] args) => Create().Parse(args);

    private static RootCommand Create()
    {
        var root = new RootCommand("RecCluster: train and sweep sequential recommenders (SASRec and baselines) on TorchSharp.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
        root.Subcommands.Add(DatasetCommand.Create());
        root.Subcommands.Add(TrialCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(LeaderboardCommand.Create());
        root.Subcommands.Add(DashboardCommand.Create());
        root.Subcommands.Add(NodeCommand.Create());
        root.Subcommands.Add(RemoteCommands.Submit());
        root.Subcommands.Add(RemoteCommands.Status());
        root.Subcommands.Add(RemoteCommands.Cancel());
        root.Subcommands.Add(RemoteCommands.Cluster());
        return root;
    }
}
