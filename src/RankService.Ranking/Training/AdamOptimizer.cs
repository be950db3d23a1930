using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RankService.Ranking.Training;

/// <summary>
/// Adam with L2 weight decay added to the gradient, the same update as <c>torch.optim.Adam(weight_decay=...)</c>:
/// <code>
///   g = grad + wd * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// </code>
/// Written here rather than taken from TorchSharp because TorchSharp's optimizers pass C# numbers straight to tensor
/// ops, creating scalars only the GC finalizer frees, which can free one mid-call (see Losses/Scalars.cs). Every
/// scalar here is a field or a <c>using</c> local, so each outlives the op that reads it.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly Tensor[] _m;
    private readonly Tensor[] _v;
    private readonly double _lr;
    private readonly double _beta1;
    private readonly double _beta2;
    private readonly Scalar _weightDecay;
    private readonly Scalar _b1;
    private readonly Scalar _oneMinusB1;
    private readonly Scalar _b2;
    private readonly Scalar _oneMinusB2;
    private readonly Scalar _eps;
    private readonly bool _decay;

    public AdamOptimizer(IEnumerable<Parameter> parameters, double lr, double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        _parameters = parameters.ToArray();
        _lr = lr;
        _beta1 = beta1;
        _beta2 = beta2;
        _decay = weightDecay != 0;
        _weightDecay = weightDecay.ToScalar();
        _b1 = beta1.ToScalar();
        _oneMinusB1 = (1 - beta1).ToScalar();
        _b2 = beta2.ToScalar();
        _oneMinusB2 = (1 - beta2).ToScalar();
        _eps = eps.ToScalar();
        using (no_grad())
        {
            _m = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
            _v = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        }
    }

    /// <summary>Updates taken so far.</summary>
    public int Steps { get; private set; }

    public double LearningRate => _lr;

    public void ZeroGrad()
    {
        foreach (Parameter p in _parameters)
        {
            p.grad?.zero_();
        }
    }

    public void Step()
    {
        Steps++;
        double correction1 = 1 - Math.Pow(_beta1, Steps);
        double correction2 = 1 - Math.Pow(_beta2, Steps);
        using Scalar stepSize = (-_lr / correction1).ToScalar();
        using Scalar sqrtCorrection2 = Math.Sqrt(correction2).ToScalar();
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            Parameter p = _parameters[i];
            Tensor? grad = p.grad;
            if (grad is null)
            {
                continue;
            }
            using var scope = NewDisposeScope();
            Tensor g = _decay ? grad.add(p, _weightDecay) : grad;
            _m[i].mul_(_b1).add_(g, _oneMinusB1);
            _v[i].mul_(_b2).addcmul_(g, g, _oneMinusB2);
            Tensor denominator = _v[i].sqrt().div_(sqrtCorrection2).add_(_eps, Losses.Scalars.One);
            p.addcdiv_(_m[i], denominator, stepSize);
        }
    }

    private const int StateMagic = 0x4D414441; // "ADAM"

    /// <summary>
    /// Writes the step count and both moment estimates (parameter order) so a resumed run continues with the
    /// same update it would have made; the hyper-parameters come from the options, not from the state.
    /// </summary>
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(StateMagic);
        writer.Write(Steps);
        writer.Write(_parameters.Length);
        foreach (Tensor t in _m.Concat(_v))
        {
            // As float64, which holds float32 (and float64) parameters exactly.
            using Tensor cpu = t.detach().cpu().to_type(ScalarType.Float64).contiguous();
            double[] values = cpu.data<double>().ToArray();
            writer.Write(values.Length);
            writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }

    /// <summary>Restores what <see cref="Save"/> wrote; throws <see cref="InvalidDataException"/> when it does not fit these parameters.</summary>
    public void Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        if (reader.ReadInt32() != StateMagic)
        {
            throw new InvalidDataException("Not an Adam state.");
        }
        int steps = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (steps < 0 || count != _parameters.Length)
        {
            throw new InvalidDataException($"Adam state holds {count} parameters; this model has {_parameters.Length}.");
        }
        var loaded = new List<double[]>(2 * count);
        foreach (Tensor t in _m.Concat(_v))
        {
            int length = reader.ReadInt32();
            if (length != t.numel())
            {
                throw new InvalidDataException($"Adam state has {length} values for a parameter of {t.numel()}.");
            }
            var values = new double[length];
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            loaded.Add(values);
        }
        // Only copy once the whole state has been read, so a refused state leaves the optimiser untouched.
        using var noGrad = no_grad();
        int i = 0;
        foreach (Tensor t in _m.Concat(_v))
        {
            using Tensor source = tensor(loaded[i++], t.shape, dtype: ScalarType.Float64);
            t.copy_(source);
        }
        Steps = steps;
    }

    public void Dispose()
    {
        foreach (Tensor t in _m.Concat(_v))
        {
            t.Dispose();
        }
        foreach (Scalar s in new[] { _weightDecay, _b1, _oneMinusB1, _b2, _oneMinusB2, _eps })
        {
            s.Dispose();
        }
    }
}
