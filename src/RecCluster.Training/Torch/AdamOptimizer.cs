using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RecCluster.Training.Torch;

/// <summary>
/// Adam (Kingma &amp; Ba 2015) with L2 weight decay added to the gradient, as torch.optim.Adam and RecBole do, or
/// decoupled from it (AdamW, Loshchilov &amp; Hutter 2019). Written here rather than taken from TorchSharp because
/// TorchSharp's step converts numbers to temporary scalars that a garbage collection can free mid-call (see
/// <see cref="Held"/>); every scalar below lives until its call returns.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _firstMoments, _secondMoments;
    private readonly double _learningRate, _beta1, _beta2, _eps, _weightDecay;
    private readonly bool _decoupled;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
    {
        _parameters = [.. parameters.Where(p => p.requires_grad)];
        using (no_grad())
        {
            _firstMoments = [.. _parameters.Select(p => zeros_like(p).DetachFromDisposeScope())];
            _secondMoments = [.. _parameters.Select(p => zeros_like(p).DetachFromDisposeScope())];
        }
        (_learningRate, _beta1, _beta2, _eps, _weightDecay, _decoupled) = (learningRate, beta1, beta2, eps, weightDecay, decoupledWeightDecay);
    }

    /// <summary>Steps taken so far (bias correction counts from it).</summary>
    public long Steps { get; private set; }

    public void ZeroGrad()
    {
        foreach (var p in _parameters)
        {
            using var grad = p.grad;
            grad?.zero_();
        }
    }

    public void Step()
    {
        Steps++;
        double correction1 = 1 - Math.Pow(_beta1, Steps), correction2 = 1 - Math.Pow(_beta2, Steps);
        using var stepSize = (-_learningRate / correction1).ToScalar();
        using var root2 = Math.Sqrt(correction2).ToScalar();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            var parameter = _parameters[i];
            var grad = parameter.grad;
            if (grad is null) continue;
            if (_weightDecay != 0)
            {
                if (_decoupled) parameter.mul_(Held.Of(1 - _learningRate * _weightDecay));
                else grad = grad.add(parameter, Held.Of(_weightDecay));
            }
            _firstMoments[i].mul_(Held.Of(_beta1)).add_(grad, Held.Of(1 - _beta1));
            _secondMoments[i].mul_(Held.Of(_beta2)).addcmul_(grad, grad, Held.Of(1 - _beta2));
            var denominator = _secondMoments[i].sqrt().div_(root2).add_(Held.Of(_eps), Held.One);
            parameter.addcdiv_(_firstMoments[i], denominator, stepSize);
        }
    }

    /// <summary>Writes the step count and both moments, so a resumed trial steps exactly as an uninterrupted one.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(Steps);
        writer.Write(_parameters.Length);
        for (int i = 0; i < _parameters.Length; i++)
        {
            _firstMoments[i].Save(writer);
            _secondMoments[i].Save(writer);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote for an optimizer over parameters of the same shapes.</summary>
    public void Load(BinaryReader reader)
    {
        long steps = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (count != _parameters.Length)
            throw new InvalidDataException($"the saved optimizer has {count} parameter tensors, this model {_parameters.Length}");
        for (int i = 0; i < count; i++)
        {
            _firstMoments[i].Load(reader);
            _secondMoments[i].Load(reader);
        }
        Steps = steps;
    }

    public void Dispose()
    {
        foreach (var t in _firstMoments) t.Dispose();
        foreach (var t in _secondMoments) t.Dispose();
    }
}
