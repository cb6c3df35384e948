namespace RecCluster.Cli.Tests;

/// <summary>Runs the CLI in this process with captured writers: fast enough for hundreds of calls.</summary>
internal static class InProcess
{
    public static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = CliApp.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>The checkout's <c>experiments/</c> folder, found from the test's folder upwards.</summary>
    public static string Experiments()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RecCluster.sln"))) return Path.Combine(dir.FullName, "experiments");
        throw new DirectoryNotFoundException("the checkout (RecCluster.sln) was not found above the test folder");
    }
}

/// <summary>
/// Tests that run the CLI in this process share torch's process-wide random generator (a trial seeds it, building a model
/// draws from it), so they must not run beside each other: a seeded run would not reproduce.
/// </summary>
[CollectionDefinition(Name)]
public sealed class InProcessTorch
{
    public const string Name = "in-process torch";
}
