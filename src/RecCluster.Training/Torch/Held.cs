using System.Collections.Concurrent;
using TorchSharp;
using static TorchSharp.torch;

namespace RecCluster.Training.Torch;

/// <summary>
/// The one place numbers become TorchSharp <see cref="Scalar"/>s. TorchSharp 0.107 turns a number handed to a tensor
/// operation (<c>x.gt(0)</c>, <c>a + b</c>'s implicit alpha of 1, its own Adam step) into a temporary Scalar whose last
/// reference ends when its handle reaches native code; a garbage collection during the call finalizes it and libtorch
/// reads freed memory ("Expected false to be true", "Unknown scalar type"). Scalars made here are interned for the life
/// of the process, so they outlive every call. The implicit conversions and the TorchSharp members that make such
/// temporaries internally are banned at compile time (src/BannedSymbols.txt); a value that changes every step is made
/// with <c>using var s = x.ToScalar()</c> and kept until the call returns.
/// </summary>
public static class Held
{
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();
    private static readonly ConcurrentDictionary<double, Scalar> Reals = new();

    /// <summary>An integer scalar (keeps integer tensors integral).</summary>
    public static Scalar Of(long value) => Integers.GetOrAdd(value, static v => v.ToScalar());

    /// <summary>A floating-point scalar. Intern only values drawn from a small set (hyperparameters, constants).</summary>
    public static Scalar Of(double value) => Reals.GetOrAdd(value, static v => v.ToScalar());

    public static Scalar One => Of(1L);

    /// <summary><c>a + b</c> with its alpha held.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><c>a += b</c> with its alpha held.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, One);

    /// <summary>start, start + 1, ..., stop - 1 as int64 on the device.</summary>
    public static Tensor Range(long start, long stop, Device device) => arange(Of(start), Of(stop), One, dtype: ScalarType.Int64, device: device);
}
