using RecCluster.Core.Config;
using RecCluster.Core.Data;

namespace RecCluster.Cli;

/// <summary>Exit codes and user-facing error printing shared by the commands.</summary>
public static class Errors
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int InvalidInput = 2;

    /// <summary>Runs a command body, turning expected failures into a message on <paramref name="error"/> and an exit code
    /// (no stack traces).</summary>
    public static int Guard(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ConfigException e)
        {
            foreach (var problem in e.Errors) error.WriteLine(problem);
            error.WriteLine($"{e.Errors.Count} problem(s) found; nothing was run.");
            return InvalidInput;
        }
        catch (Exception e) when (e is DataFormatException or UsageException)
        {
            error.WriteLine($"error: {e.Message}");
            return InvalidInput;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("cancelled.");
            return 130;
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return Failed;
        }
        catch (Exception e)
        {
            // Native (LibTorch) failures and bugs: one readable line; the trace only on request.
            error.WriteLine($"internal error ({e.GetType().Name}): {e.Message.Split('\n')[0]}");
            if (Environment.GetEnvironmentVariable("RECCLUSTER_TRACE") == "1") error.WriteLine(e);
            else error.WriteLine("set RECCLUSTER_TRACE=1 for the full trace, and please report it.");
            return Failed;
        }
    }
}

/// <summary>A flag value the parser accepted but the command cannot use (exit 2, like any bad input).</summary>
public sealed class UsageException(string message) : Exception(message);
