using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
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
/// <para>
/// Sparse gradients (embeddings built with <c>sparseGradients</c>) get the lazy update of torch.optim.SparseAdam with
/// the same coupled weight decay: duplicate rows are summed, then only the rows present are updated, moments included;
/// the bias corrections use the global step count. A dense gradient always gets the dense update above. The lazy update
/// runs in C# over the touched rows of the (CPU) weights and moments, one SIMD pass per step in float64 scratch, written
/// back in the parameter's type: as tensor ops (unique, index_add, index_select, index_copy per table, each a parallel
/// region) it took longer than the batch's forward and backward.
/// </para>
/// <para>
/// Written here rather than taken from TorchSharp because TorchSharp's optimizers pass C# numbers straight to tensor
/// ops, creating scalars only the GC finalizer frees, which can free one mid-call (see Losses/Scalars.cs). Every
/// scalar here is a field or a <c>using</c> local, so each outlives the op that reads it.
/// </para>
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

    private readonly double _decayRate;
    private readonly double _eps1;

    // Per parameter with a sparse gradient: its gradient summed per distinct row for the current step, built once by
    // ClipGradNorm or Step and cleared by ZeroGrad and Step. Kept across steps so a step allocates nothing per table.
    private readonly RowGradient?[] _rowGrads;

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
        _decayRate = weightDecay;
        _eps1 = eps;
        _rowGrads = new RowGradient?[_parameters.Length];
    }

    /// <summary>Updates taken so far.</summary>
    public int Steps { get; private set; }

    public double LearningRate => _lr;

    public void ZeroGrad()
    {
        DropRowGradients();
        foreach (Parameter p in _parameters)
        {
            Tensor? grad = p.grad;
            if (grad is null)
            {
                continue;
            }
            if (grad.is_sparse)
            {
                // An emptied sparse gradient would only be concatenated with the next one: drop it instead.
                p.grad = null;
            }
            else
            {
                grad.zero_();
            }
        }
    }

    /// <summary>
    /// Scales every gradient by <c>min(1, maxNorm / (norm + 1e-6))</c>, where norm is the 2-norm of all gradients
    /// together, as <c>torch.nn.utils.clip_grad_norm_</c> does; sparse gradients count (and are scaled) once per
    /// distinct row, after summing duplicates. Returns the norm before clipping.
    /// </summary>
    public double ClipGradNorm(double maxNorm)
    {
        using var noGrad = no_grad();
        double squares = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            squares += SquaredNorm(i);
        }
        double norm = Math.Sqrt(squares);
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
        {
            for (int i = 0; i < _parameters.Length; i++)
            {
                Scale(i, coefficient);
            }
        }
        return norm;
    }

    /// <summary>The sum of squares of parameter i's gradient (a sparse one summed per row first).</summary>
    private double SquaredNorm(int i)
    {
        Tensor? grad = _parameters[i].grad;
        if (grad is null)
        {
            return 0;
        }
        if (grad.is_sparse)
        {
            return TensorPrimitives.SumOfSquares<double>(RowGradients(i).Values);
        }
        using Tensor norm = linalg.vector_norm(grad);
        using Tensor wide = norm.to_type(ScalarType.Float64);
        double n = wide.item<double>();
        return n * n;
    }

    private void Scale(int i, double scale)
    {
        Tensor? grad = _parameters[i].grad;
        if (grad is null)
        {
            return;
        }
        if (grad.is_sparse)
        {
            Span<double> values = RowGradients(i).Values;
            TensorPrimitives.Multiply(values, scale, values);
            return;
        }
        using Scalar s = scale.ToScalar();
        grad.mul_(s);
    }

    /// <summary>Parameter i's sparse gradient summed per distinct row (built once per step).</summary>
    private RowGradient RowGradients(int i)
    {
        Parameter p = _parameters[i];
        RowGradient result = _rowGrads[i] ??= new RowGradient((int)p.shape[0]);
        if (result.Built)
        {
            return result;
        }
        Tensor grad = p.grad!;
        if (grad.device_type != DeviceType.CPU)
        {
            throw new NotSupportedException("Lazy (sparse) embedding updates run on CPU only; use dense updates on a GPU.");
        }
        using var scope = NewDisposeScope();
        Tensor indices = grad.SparseIndices[0].contiguous();
        ReadOnlySpan<long> lookups = MemoryMarshal.Cast<byte, long>(indices.bytes);
        Tensor values = grad.SparseValues.contiguous();
        int width = lookups.Length == 0 ? 0 : (int)(values.numel() / lookups.Length);
        if (values.dtype == ScalarType.Float32)
        {
            result.Build(lookups, MemoryMarshal.Cast<byte, float>(values.bytes), width);
        }
        else
        {
            Tensor wide = values.to_type(ScalarType.Float64);
            result.Build(lookups, MemoryMarshal.Cast<byte, double>(wide.bytes), width);
        }
        return result;
    }

    private void DropRowGradients()
    {
        foreach (RowGradient? rows in _rowGrads)
        {
            rows?.Clear();
        }
    }

    /// <summary>
    /// The lazy Adam update of parameter i's touched rows, on its (CPU, contiguous) memory and its moments'.
    /// </summary>
    private void LazyStep(int i, double stepSize, double sqrtCorrection2)
    {
        Parameter p = _parameters[i];
        if (p.dtype == ScalarType.Float32)
        {
            LazyStep(MemoryMarshal.Cast<byte, float>(p.bytes), MemoryMarshal.Cast<byte, float>(_m[i].bytes),
                MemoryMarshal.Cast<byte, float>(_v[i].bytes), RowGradients(i), stepSize, sqrtCorrection2);
        }
        else if (p.dtype == ScalarType.Float64)
        {
            LazyStep(MemoryMarshal.Cast<byte, double>(p.bytes), MemoryMarshal.Cast<byte, double>(_m[i].bytes),
                MemoryMarshal.Cast<byte, double>(_v[i].bytes), RowGradients(i), stepSize, sqrtCorrection2);
        }
        else
        {
            throw new NotSupportedException($"Lazy embedding updates need float32 or float64 weights, not {p.dtype}.");
        }
    }

    // Optimised from the first call: tier-0 code made the first hundred batches of an ml-25m epoch several times slower.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void LazyStep<T>(Span<T> p, Span<T> m, Span<T> v, RowGradient rows, double stepSize, double sqrtCorrection2)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        // Row by row in float64 scratch (a row is one embedding: 64 values, in L1), each step one SIMD pass.
        int width = rows.Width;
        var scratch = new double[5 * width];
        Span<double> pd = scratch.AsSpan(0, width), md = scratch.AsSpan(width, width), vd = scratch.AsSpan(2 * width, width);
        Span<double> g = scratch.AsSpan(3 * width, width), t = scratch.AsSpan(4 * width, width);
        for (int r = 0; r < rows.Rows.Count; r++)
        {
            int offset = checked((int)(rows.Rows[r] * width));
            Span<T> pRow = p.Slice(offset, width), mRow = m.Slice(offset, width), vRow = v.Slice(offset, width);
            TensorPrimitives.ConvertTruncating<T, double>(pRow, pd);
            TensorPrimitives.ConvertTruncating<T, double>(mRow, md);
            TensorPrimitives.ConvertTruncating<T, double>(vRow, vd);
            TensorPrimitives.MultiplyAdd(pd, _decayRate, rows.Values.Slice(r * width, width), g);   // g = grad + wd p
            TensorPrimitives.Multiply(md, _beta1, md);
            TensorPrimitives.MultiplyAdd(g, 1 - _beta1, md, md);                                  // m = b1 m + (1 - b1) g
            TensorPrimitives.Multiply(vd, _beta2, vd);
            TensorPrimitives.Multiply(g, g, t);
            TensorPrimitives.MultiplyAdd(t, 1 - _beta2, vd, vd);                                   // v = b2 v + (1 - b2) g^2
            TensorPrimitives.Sqrt(vd, t);
            TensorPrimitives.Divide(t, sqrtCorrection2, t);
            TensorPrimitives.Add(t, _eps1, t);                                                     // sqrt(v) / sqrt(c2) + eps
            TensorPrimitives.Divide(md, t, t);
            TensorPrimitives.MultiplyAdd(t, stepSize, pd, pd);                                     // p += -lr / c1 * m / denominator
            TensorPrimitives.ConvertTruncating<double, T>(pd, pRow);
            TensorPrimitives.ConvertTruncating<double, T>(md, mRow);
            TensorPrimitives.ConvertTruncating<double, T>(vd, vRow);
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
            if (grad.is_sparse)
            {
                LazyStep(i, -_lr / correction1, Math.Sqrt(correction2));
                continue;
            }
            using var scope = NewDisposeScope();
            Tensor g = _decay ? grad.add(p, _weightDecay) : grad;
            _m[i].mul_(_b1).add_(g, _oneMinusB1);
            _v[i].mul_(_b2).addcmul_(g, g, _oneMinusB2);
            Tensor denominator = _v[i].sqrt().div_(sqrtCorrection2).add_(_eps, Losses.Scalars.One);
            p.addcdiv_(_m[i], denominator, stepSize);
        }
        DropRowGradients();
    }

    /// <summary>
    /// A sparse gradient summed per distinct row: rows in order of first appearance, values row-major in float64. One per
    /// parameter, reused step after step: the row-to-slot table and the buffers are allocated once (and grown when a
    /// step touches more rows), and <see cref="Clear"/> resets only the rows the last step touched.
    /// </summary>
    private sealed class RowGradient(int tableRows)
    {
        private readonly int[] _slotOf = new int[tableRows]; // slot + 1; 0 = row not in this step
        private int[] _slots = [];
        private double[] _values = [];
        private double[] _wide = [];

        public List<long> Rows { get; } = [];
        public int Width { get; private set; }
        public bool Built { get; private set; }

        /// <summary>The summed rows, <c>Rows.Count * Width</c> values.</summary>
        public Span<double> Values => _values.AsSpan(0, Rows.Count * Width);

        public void Clear()
        {
            foreach (long row in Rows)
            {
                _slotOf[row] = 0;
            }
            Rows.Clear();
            Built = false;
        }

        /// <summary>Sums lookup k's gradient <c>values[k * width ..]</c> into its row.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
        public void Build<T>(ReadOnlySpan<long> lookups, ReadOnlySpan<T> values, int width)
            where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
        {
            Clear();
            Width = width;
            if (_slots.Length < lookups.Length)
            {
                _slots = new int[lookups.Length];
            }
            for (int k = 0; k < lookups.Length; k++)
            {
                long row = lookups[k];
                if ((ulong)row >= (ulong)tableRows)
                {
                    throw new ArgumentOutOfRangeException(nameof(lookups), row, $"Row outside 0..{tableRows - 1}.");
                }
                if (_slotOf[row] == 0)
                {
                    Rows.Add(row);
                    _slotOf[row] = Rows.Count;
                }
                _slots[k] = _slotOf[row] - 1;
            }
            if (_values.Length < Rows.Count * width)
            {
                _values = new double[Rows.Count * width];
            }
            if (_wide.Length < width)
            {
                _wide = new double[width];
            }
            Span<double> sums = Values;
            sums.Clear();
            Span<double> wide = _wide.AsSpan(0, width);
            for (int k = 0; k < lookups.Length; k++)
            {
                Span<double> target = sums.Slice(_slots[k] * width, width);
                TensorPrimitives.ConvertTruncating<T, double>(values.Slice(k * width, width), wide);
                TensorPrimitives.Add(target, wide, target);
            }
            Built = true;
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
        // The scope keeps every intermediate of the chain below reachable until it ends. Without it an intermediate
        // (detach's result, say) is garbage as soon as the next call has read its handle, and the finalizer can free
        // it while that native call still reads it: a segfault in libtorch seen once mid-sweep, right after the
        // epoch's checkpoints were written (the large arrays below make collections frequent here).
        using var scope = NewDisposeScope();
        foreach (Tensor t in _m.Concat(_v))
        {
            // As float64, which holds float32 (and float64) parameters exactly.
            Tensor cpu = t.detach().cpu().to_type(ScalarType.Float64).contiguous();
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
        using var scope = NewDisposeScope();
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
        DropRowGradients();
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
