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
    /// Process settings that must be in place before libtorch loads: call it first in Main, before any torch member runs.
    /// Torch's OpenMP threads then wait for work by sleeping instead of spinning (OMP_WAIT_POLICY=PASSIVE, unless the
    /// environment already names a policy). Spinning pays off only on cores nobody else wants; on a machine shared with
    /// other trials, builds or users, a spinning thread burns the core its partner needs, and with 2 torch threads on a
    /// loaded 2-core machine epochs of the paper settings took 17-40 s instead of 3-4 s (bench/RecCluster.Bench.Epoch).
    /// </summary>
    public static void PrepareProcess()
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);   // read by libgomp/libomp when libtorch loads them
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No C library to set it in: torch keeps OpenMP's default.
        }
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

    [DllImport("libc", EntryPoint = "setenv")]
    private static extern int SetEnv([MarshalAs(UnmanagedType.LPUTF8Str)] string name, [MarshalAs(UnmanagedType.LPUTF8Str)] string value, int overwrite);

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int parameter, int value);
}
