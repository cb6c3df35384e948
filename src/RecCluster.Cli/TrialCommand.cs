using System.CommandLine;
using System.Diagnostics;
using RecCluster.Core.Config;
using RecCluster.Core.Sweeps;
using RecCluster.Training;

namespace RecCluster.Cli;

/// <summary>
/// One sweep trial in its own process (a worker starts it): events go to stdout as JSON lines; a line
/// "stop" on stdin ends the trial after the current epoch with test metrics at its best epoch.
/// </summary>
public static class TrialCommand
{
    public static Command Create()
    {
        var spec = new Argument<FileInfo>("spec")
        {
            Description = "Trial spec (JSON) written by a worker: the sweep's text, model, hyperparameter values and data file hashes.",
        };
        var stateDir = new Option<DirectoryInfo?>("--state-dir")
        {
            Description = "Keep the trial's checkpoints here (best weights, and a resume checkpoint after every epoch).",
        };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in --state-dir when there is one." };
        var command = new Command("trial", "Run one sweep trial as a worker's child process, reporting JSON lines on stdout (used by " +
            "reccluster sweep and worker nodes). A line \"stop\" on stdin ends it after the current epoch; stdin closing (its worker is " +
            $"gone) ends it at once with exit code {Orphaned}.");
        command.Arguments.Add(spec);
        command.Options.Add(stateDir);
        command.Options.Add(resume);
        command.SetAction(parse => Errors.Guard(parse.InvocationConfiguration.Error, () =>
        {
            if (parse.GetValue(resume) && parse.GetValue(stateDir) is null) throw new UsageException("--resume needs --state-dir");
            return Run(parse.GetValue(spec)!, parse.GetValue(stateDir)?.FullName, parse.GetValue(resume));
        }));
        return command;
    }

    /// <summary>Exit code of a trial whose worker went away (its standard input closed).</summary>
    public const int Orphaned = 4;

    private static int Run(FileInfo specFile, string? stateDirectory, bool resume)
    {
        var output = Console.Out;
        void Emit(TrialEvent e) { lock (output) { output.WriteLine(TrialCodec.Encode(e)); output.Flush(); } }
        try
        {
            var spec = TrialCodec.DecodeSpec(File.ReadAllText(specFile.FullName));
            var sweep = ExperimentLoader.LoadSweep(spec.Sweep);   // the text shipped at submission, not the file as it is now
            var experiment = sweep.TrialExperiment(spec.Model, spec.Params);
            int stopRequested = 0;
            var stdin = new Thread(() =>
            {
                while (Console.In.ReadLine() is { } line)
                    if (line.Trim() == "stop") Interlocked.Exchange(ref stopRequested, 1);
                // No worker reads our reports any more (it was killed): stop before another attempt takes over the checkpoints.
                Environment.Exit(Orphaned);
            }) { IsBackground = true };
            stdin.Start();
            var options = new TrialOptions(Threads: spec.Threads, StopRequested: () => Volatile.Read(ref stopRequested) == 1,
                StateDirectory: stateDirectory, Resume: resume);
            var result = TrialRunner.Run(experiment, options, new EventObserver(Emit));
            Emit(new TrialFinished(result.Status, result.Device, result.BestEpoch, result.EpochsRun, result.Valid, result.Test, result.Seconds));
            return Errors.Ok;
        }
        catch (Exception e)
        {
            Emit(new TrialError(e is ConfigException c ? string.Join("; ", c.Errors) : e.Message.Split('\n')[0]));
            return Errors.Failed;
        }
    }

    private sealed class EventObserver(Action<TrialEvent> emit) : ITrialObserver
    {
        private readonly Stopwatch _sinceLast = Stopwatch.StartNew();

        public void BatchCompleted(int epoch, int batch, int batches)
        {
            if (_sinceLast.Elapsed < TimeSpan.FromSeconds(1)) return;
            emit(new TrialHeartbeat());
            _sinceLast.Restart();
        }

        public void EpochCompleted(EpochReport report)
        {
            emit(new TrialEpoch(report.Epoch, report.Loss, report.Valid));
            _sinceLast.Restart();
        }
    }
}
