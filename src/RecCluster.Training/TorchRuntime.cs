using TorchSharp;
using static TorchSharp.torch;

namespace RecCluster.Training;

/// <summary>Device selection, thread count and seeding for a trial.</summary>
public static class TorchRuntime
{
    /// <summary>
    /// Resolves <c>auto|cpu|cuda</c>: auto picks CUDA when this build and machine have it, else CPU.
    /// Asking for CUDA where it is absent is an error rather than a silent fall-back.
    /// </summary>
    public static Device ResolveDevice(string requested)
    {
        bool cuda = CudaAvailable;
        return requested switch
        {
            "cpu" => CPU,
            "cuda" when cuda => CUDA,
            "cuda" => throw new InvalidOperationException(
                "device: cuda was requested but CUDA is not available (this build uses TorchSharp-cpu unless built with -p:RecClusterCuda=true, or no GPU is visible)"),
            "auto" => cuda ? CUDA : CPU,
            _ => throw new ArgumentException($"unknown device '{requested}'"),
        };
    }

    public static bool CudaAvailable => torch.cuda.is_available();

    /// <summary>Seeds every torch random source used by a trial.</summary>
    public static void Seed(long seed)
    {
        manual_seed(seed);
        if (CudaAvailable) torch.cuda.manual_seed_all(seed);
    }

    public static void SetThreads(int threads)
    {
        if (threads > 0) set_num_threads(threads);
    }
}
