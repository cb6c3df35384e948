using RecCluster.Training.Torch;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RecCluster.Training.Tests;

public class AdamOptimizerTests
{
    private static (Parameter Weight, AdamOptimizer Adam) Setup(double[] start, double[] grad, double weightDecay = 0, bool decoupled = false)
    {
        var weight = new Parameter(tensor(start, dtype: ScalarType.Float64));
        weight.grad = tensor(grad, dtype: ScalarType.Float64);
        return (weight, new AdamOptimizer([weight], learningRate: 0.1, beta1: 0.9, beta2: 0.98, eps: 1e-8, weightDecay, decoupled));
    }

    [Fact]
    public void First_step_moves_each_weight_by_the_learning_rate_against_its_gradient()
    {
        // After one step the bias-corrected moments are g and g², so the update is lr * g / (|g| + eps).
        var (weight, adam) = Setup([1.0, -2.0, 0.5], [0.3, -4.0, 0.0]);
        adam.Step();
        var w = weight.data<double>().ToArray();
        Assert.Equal(0.9, w[0], 6);
        Assert.Equal(-1.9, w[1], 6);
        Assert.Equal(0.5, w[2], 12);
    }

    [Fact]
    public void Second_step_follows_the_moment_recurrences()
    {
        var (weight, adam) = Setup([1.0], [2.0]);
        adam.Step();
        weight.grad!.fill_(Held.Of(-1.0));
        adam.Step();
        // m = 0.9*0.1*2 + 0.1*(-1) = 0.08, v = 0.98*0.02*4 + 0.02*1 = 0.0984; corrections 1-0.9², 1-0.98².
        double m = 0.08 / (1 - 0.81), v = 0.0984 / (1 - 0.9604);
        Assert.Equal(0.9 - 0.1 * m / (Math.Sqrt(v) + 1e-8), weight.data<double>()[0], 9);
    }

    [Fact]
    public void Weight_decay_is_added_to_the_gradient_or_decoupled()
    {
        // Coupled (L2, as torch.optim.Adam): the decay enters the gradient, so a zero gradient still moves by lr.
        var (coupled, adam) = Setup([2.0], [0.0], weightDecay: 0.5);
        adam.Step();
        Assert.Equal(1.9, coupled.data<double>()[0], 6);
        // Decoupled (AdamW): the weight shrinks by lr * decay * w, then the Adam step of a zero gradient adds nothing.
        var (decoupled, adamW) = Setup([2.0], [0.0], weightDecay: 0.5, decoupled: true);
        adamW.Step();
        Assert.Equal(2.0 * (1 - 0.1 * 0.5), decoupled.data<double>()[0], 9);
    }

    [Fact]
    public void A_loaded_state_steps_exactly_as_the_saved_optimizer()
    {
        var (original, adam) = Setup([1.0, -2.0], [0.3, -4.0]);
        adam.Step();
        adam.Step();
        using var saved = new MemoryStream();
        adam.Save(new BinaryWriter(saved));
        var (copy, restored) = Setup([.. original.data<double>()], [0.3, -4.0]);
        saved.Position = 0;
        restored.Load(new BinaryReader(saved));
        Assert.Equal(2, restored.Steps);
        adam.Step();
        restored.Step();
        Assert.Equal(original.data<double>().ToArray(), copy.data<double>().ToArray());
    }
}
