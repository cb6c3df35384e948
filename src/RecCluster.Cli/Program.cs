using RecCluster.Cli;
using RecCluster.Training;

TorchRuntime.PrepareProcess();   // before libtorch loads
return CliApp.Run(args, Console.Out, Console.Error);
