using System.CommandLine;
using RecCluster.Cli;

var root = new RootCommand("RecCluster: train and sweep sequential recommenders (SASRec and baselines) on TorchSharp.");
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(DatasetCommand.Create());
root.Subcommands.Add(TrialCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
root.Subcommands.Add(LeaderboardCommand.Create());
return root.Parse(args).Invoke();
