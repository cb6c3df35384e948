using System.CommandLine;

namespace RecCluster.Cli;

/// <summary>The <c>reccluster</c> command line. Commands write to the invocation's writers, so tests run it in-process.</summary>
public static class CliApp
{
    public static int Run(string[] args, TextWriter output, TextWriter error) =>
        Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });

    private static RootCommand Create()
    {
        var root = new RootCommand("RecCluster: train and sweep sequential recommenders (SASRec and baselines) on TorchSharp.");
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(ValidateCommand.Create());
        root.Subcommands.Add(DatasetCommand.Create());
        root.Subcommands.Add(TrialCommand.Create());
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(LeaderboardCommand.Create());
        return root;
    }
}
