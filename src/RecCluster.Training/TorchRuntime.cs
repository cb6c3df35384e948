using System.Runtime.InteropServices;
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

    /// <summary>
    /// Keeps memory that libtorch frees inside the process for the next training step. A step allocates and frees the
    /// same large blocks every batch (SASRec's batch x length x length attention scores: 20 MB at batch 128, length 200),
    /// and glibc's defaults hand such blocks back to the kernel when they are freed (mmap above its threshold, heap
    /// trimming above another), so every step the kernel maps and zero-fills them again and takes a page fault per page:
    /// about half of an epoch's CPU time with the paper settings on ml-100k, and the part most slowed by other processes.
    /// With the mmap threshold at glibc's maximum (32 MB) and trimming only past 1 GB of free heap, the process keeps its
    /// peak step's memory instead (resident size stays near that peak). No effect outside glibc.
    /// </summary>
    public static void KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || s_keepingFreedMemory) return;
        try
        {
            Mallopt(MmapThreshold, 32 << 20);
            Mallopt(TrimThreshold, 1 << 30);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): its allocator has no such knobs.
        }
        s_keepingFreedMemory = true;
    }

    private static bool s_keepingFreedMemory;
    private const int TrimThreshold = -1, MmapThreshold = -3;   // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD in glibc's malloc.h

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
