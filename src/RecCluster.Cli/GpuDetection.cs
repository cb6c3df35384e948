using System.Diagnostics;

namespace RecCluster.Cli;

/// <summary>How many GPUs a worker offers when --gpus does not say.</summary>
internal static class GpuDetection
{
#if RECCLUSTER_CUDA
    private const bool CudaBuild = true;
#else
    private const bool CudaBuild = false;
#endif

    private static readonly TimeSpan SmiTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The CUDA build asks TorchSharp (what its trials will see); the CPU build has no CUDA to ask and counts the
    /// machine's GPUs with <c>nvidia-smi -L</c> when it is installed.
    /// </summary>
    public static (int Count, string Source) Detect() =>
        CudaBuild ? ((int)TorchSharp.torch.cuda.device_count(), "CUDA device count") : NvidiaSmi();

    private static (int Count, string Source) NvidiaSmi()
    {
        var smi = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "nvidia-smi")).FirstOrDefault(File.Exists);
        if (smi is null) return (0, "nvidia-smi not found");
        var start = new ProcessStartInfo(smi, "-L") { RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();   // drained so a chatty driver cannot block the process
            if (!process.WaitForExit(SmiTimeout))
            {
                process.Kill(entireProcessTree: true);
                return (0, $"nvidia-smi -L did not answer within {SmiTimeout.TotalSeconds} s");
            }
            if (process.ExitCode != 0) return (0, $"nvidia-smi -L exited with {process.ExitCode}");
            int count = output.Result.Split('\n').Count(line => line.StartsWith("GPU ", StringComparison.Ordinal));
            return (count, "nvidia-smi -L");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return (0, $"nvidia-smi -L failed: {e.Message}");
        }
    }
}
