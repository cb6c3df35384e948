using static TorchSharp.torch;

namespace RecCluster.Training.Tests;

public class TorchLoadTests
{
    [Fact]
    public void TorchSharp_native_library_loads_and_computes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var product = a.matmul(a);
        Assert.Equal([7f, 10f, 15f, 22f], product.data<float>().ToArray());
        Assert.Equal(TorchSharp.DeviceType.CPU, TorchRuntime.ResolveDevice("auto").type);
    }

    [Fact]
    public void Asking_for_cuda_without_it_is_a_clear_error()
    {
        if (TorchRuntime.CudaAvailable) return;
        var e = Assert.Throws<InvalidOperationException>(() => TorchRuntime.ResolveDevice("cuda"));
        Assert.Contains("CUDA is not available", e.Message);
    }
}
