using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using RankService.Ranking.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Model;

/// <summary>
/// The serving fast path: every user's and item's side of a <see cref="TwoTowerModel"/> computed once, under
/// inference mode, into plain float arrays, so scoring one user against the catalogue is one matrix-vector product
/// in SIMD (<see cref="TensorPrimitives"/>) with no tensors, no native calls and no allocations.
/// <list type="bullet">
/// <item><c>dot</c>: score(u, i) = f(u) · g(i) + b_i, with f and g the tower outputs.</item>
/// <item><c>concat-mlp</c>: score(u, i) = MLP(relu(W_u e_u + c + W_i e_i)) + b_i; the user part (W_u e_u + c) and
/// the item part (W_i e_i) of the first layer are the stored vectors, the rest of the MLP runs per item.</item>
/// </list>
/// Immutable after construction and independent of the model's lifetime, so any number of threads may score at
/// once and the model can be disposed meanwhile. Memory: (users + items) × width floats.
/// For the dot head the item vectors are stored transposed (dimension-major), so a user's scores are <c>width</c>
/// multiply-adds over contiguous catalogue-long rows: s = b + Σ_k u_k · G[k, :]. One SIMD pass per dimension is several
/// times faster than one short dot product per item, whose per-call overhead dominates at width 64.
/// </summary>
public sealed class PrecomputedScorer : IItemScorer
{
    private readonly float[] _users;
    private readonly float[] _items;   // [items, width] (concat-mlp) or [width, items] (dot)
    private readonly float[] _bias;
    private readonly (float[] Weight, float[] Bias, int Inputs, int Outputs)[] _head;
    private readonly int _scratch;

    public PrecomputedScorer(TwoTowerModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool training = model.training;
        model.eval(); // no dropout in the stored vectors
        try
        {
            using var mode = inference_mode();
            using var scope = NewDisposeScope();
            Device device = model.parameters().First().device;
            using Scalar userCount = model.UserCount.ToScalar();
            using Scalar itemCount = model.ItemCount.ToScalar();
            _users = Rows(model.UserVectors(arange(Losses.Scalars.IntZero, userCount, Losses.Scalars.IntOne, dtype: ScalarType.Int64, device: device)), out int width);
            Tensor all = arange(Losses.Scalars.IntZero, itemCount, Losses.Scalars.IntOne, dtype: ScalarType.Int64, device: device);
            _items = Rows(model.ItemVectors(all), out _);
            _bias = Rows(model.ItemBiases(all), out _);
            Width = width;
        }
        finally
        {
            model.train(training);
        }
        UserCount = model.UserCount;
        ItemCount = model.ItemCount;
        _head = [.. model.HeadLayers()];
        if (_head.Length == 0)
        {
            _items = Transpose(_items, ItemCount, Width);
        }
        _scratch = _head.Length == 0 ? 0 : Math.Max(Width, _head.Max(l => l.Outputs));
    }

    public int UserCount { get; }
    public int ItemCount { get; }

    /// <summary>Length of each stored user and item vector.</summary>
    public int Width { get; }

    /// <summary>Scores every catalogue item for one user into <paramref name="scores"/> (length ≥ ItemCount). Thread-safe.</summary>
    public void ScoreUser(int user, Span<float> scores)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)UserCount, nameof(user));
        ScoreVector(_users.AsSpan(user * Width, Width), scores);
    }

    /// <summary>
    /// Scores every catalogue item for a user given by its stored-side vector (length <see cref="Width"/>: the tower
    /// output for dot, W_u e_u + c for concat-mlp), e.g. one folded in by <see cref="UserFoldIn"/>. Thread-safe.
    /// </summary>
    public void ScoreVector(ReadOnlySpan<float> user, Span<float> scores)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(user.Length, Width, nameof(user));
        ArgumentOutOfRangeException.ThrowIfLessThan(scores.Length, ItemCount, nameof(scores));
        int d = Width;
        ReadOnlySpan<float> u = user;
        ReadOnlySpan<float> items = _items;
        if (_head.Length == 0)
        {
            int n = ItemCount;
            Span<float> s = scores[..n];
            if (Vector256.IsHardwareAccelerated)
            {
                ScoreOne(u, s);
                return;
            }
            _bias.AsSpan().CopyTo(s);
            for (int k = 0; k < d; k++)
            {
                TensorPrimitives.MultiplyAdd(items.Slice(k * n, n), u[k], s, s);
            }
            return;
        }
        // Two ping-pong buffers for the hidden activations; widths are small (the MLP's layer sizes).
        Span<float> buffers = _scratch <= 512 ? stackalloc float[2 * _scratch] : new float[2 * _scratch];
        Span<float> a = buffers[.._scratch];
        Span<float> b = buffers[_scratch..];
        for (int i = 0; i < ItemCount; i++)
        {
            Span<float> h = a[..d];
            TensorPrimitives.Add(u, items.Slice(i * d, d), h);
            TensorPrimitives.Max(h, 0f, h);
            for (int l = 0; l < _head.Length; l++)
            {
                (float[] weight, float[] bias, int inputs, int outputs) = _head[l];
                Span<float> next = (l % 2 == 0 ? b : a)[..outputs];
                for (int o = 0; o < outputs; o++)
                {
                    next[o] = TensorPrimitives.Dot(weight.AsSpan(o * inputs, inputs), h) + bias[o];
                }
                if (l < _head.Length - 1)
                {
                    TensorPrimitives.Max(next, 0f, next);
                }
                h = next;
            }
            scores[i] = h[0] + _bias[i];
        }
    }

    /// <summary>True for the <c>dot</c> head: a score is <see cref="UserVector"/> · item vector + item bias, which an inner-product index can rank.</summary>
    public bool IsDotProduct => _head.Length == 0;

    /// <summary>The user's stored vector (length <see cref="Width"/>): the <c>dot</c> head's user tower output, what the index and similar-user lookups use.</summary>
    public ReadOnlySpan<float> UserVector(int user)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)UserCount, nameof(user));
        return _users.AsSpan(user * Width, Width);
    }

    /// <summary>
    /// Writes the <c>dot</c> head's item vector followed by its bias into <paramref name="into"/> (length Width + 1), so
    /// [user vector, 1] · [item vector, bias] is the item's score.
    /// </summary>
    public void ItemVectorWithBias(int item, Span<float> into)
    {
        EnsureDot();
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)ItemCount, nameof(item));
        ArgumentOutOfRangeException.ThrowIfLessThan(into.Length, Width + 1, nameof(into));
        for (int k = 0; k < Width; k++)
        {
            into[k] = _items[(k * ItemCount) + item];
        }
        into[Width] = _bias[item];
    }

    /// <summary>
    /// The <c>dot</c> head's scores of a few items: the formula of <see cref="ScoreUser"/> in the same order (bias, then one
    /// multiply and one add per dimension); SIMD there may fuse a multiply-add, so the last bit can differ.
    /// </summary>
    public void ScoreItems(int user, ReadOnlySpan<int> items, Span<float> scores)
    {
        EnsureDot();
        ArgumentOutOfRangeException.ThrowIfLessThan(scores.Length, items.Length, nameof(scores));
        ReadOnlySpan<float> u = UserVector(user);
        int n = ItemCount;
        for (int j = 0; j < items.Length; j++)
        {
            int item = items[j];
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)n, nameof(items));
            float s = _bias[item];
            for (int k = 0; k < u.Length; k++)
            {
                s = (_items[(k * n) + item] * u[k]) + s;
            }
            scores[j] = s;
        }
    }

    private void EnsureDot()
    {
        if (_head.Length != 0)
        {
            throw new InvalidOperationException("Only the dot head's scores are an inner product of stored vectors.");
        }
    }

    /// <summary>
    /// Scores every catalogue item for each of <paramref name="users"/> into consecutive rows of <paramref name="scores"/>
    /// ([users, items]). The <c>dot</c> head runs one register-blocked matrix product (<see cref="ScoreBlock"/>); the
    /// scores are bit for bit those of <see cref="ScoreUser"/>, which computes the same unfused multiply, then add, per
    /// dimension in the same order. Thread-safe.
    /// </summary>
    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(scores.Length, users.Length * ItemCount, nameof(scores));
        if (_head.Length != 0 || users.Length < 2 || !Vector256.IsHardwareAccelerated)
        {
            for (int n = 0; n < users.Length; n++)
            {
                ScoreUser(users[n], scores.Slice(n * ItemCount, ItemCount));
            }
            return;
        }
        foreach (int user in users)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)user, (uint)UserCount, nameof(users));
        }
        ScoreBlock(users, scores);
    }

    /// <summary>
    /// The dot head's [users, items] product: item tiles of 16 (two 8-float vectors, one cache line of each of the
    /// <see cref="Width"/> dimension-major rows, so a tile stays in L1) outer, users four at a time inner, 8 accumulators
    /// in registers starting from the bias; each item vector is loaded once per four users instead of once per user
    /// (<see cref="ScoreOne"/>, the one-user kernel, loads it once per user), and no score row is read back per dimension.
    /// </summary>
    private void ScoreBlock(ReadOnlySpan<int> users, Span<float> scores)
    {
        int n = ItemCount, d = Width;
        ref float g = ref MemoryMarshal.GetArrayDataReference(_items);
        ref float bias = ref MemoryMarshal.GetArrayDataReference(_bias);
        ref float u = ref MemoryMarshal.GetArrayDataReference(_users);
        ref float s = ref MemoryMarshal.GetReference(scores);
        int tiled = n - (n % 16);
        for (int i = 0; i < tiled; i += 16)
        {
            Vector256<float> b0 = Vector256.LoadUnsafe(ref bias, (nuint)i);
            Vector256<float> b1 = Vector256.LoadUnsafe(ref bias, (nuint)(i + 8));
            int r = 0;
            for (; r + 4 <= users.Length; r += 4)
            {
                ref float u0 = ref Unsafe.Add(ref u, users[r] * d);
                ref float u1 = ref Unsafe.Add(ref u, users[r + 1] * d);
                ref float u2 = ref Unsafe.Add(ref u, users[r + 2] * d);
                ref float u3 = ref Unsafe.Add(ref u, users[r + 3] * d);
                Vector256<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
                for (int k = 0; k < d; k++)
                {
                    nuint at = (nuint)((k * n) + i);
                    Vector256<float> g0 = Vector256.LoadUnsafe(ref g, at);
                    Vector256<float> g1 = Vector256.LoadUnsafe(ref g, at + 8);
                    Vector256<float> v = Vector256.Create(Unsafe.Add(ref u0, k));
                    a00 = (g0 * v) + a00;
                    a01 = (g1 * v) + a01;
                    v = Vector256.Create(Unsafe.Add(ref u1, k));
                    a10 = (g0 * v) + a10;
                    a11 = (g1 * v) + a11;
                    v = Vector256.Create(Unsafe.Add(ref u2, k));
                    a20 = (g0 * v) + a20;
                    a21 = (g1 * v) + a21;
                    v = Vector256.Create(Unsafe.Add(ref u3, k));
                    a30 = (g0 * v) + a30;
                    a31 = (g1 * v) + a31;
                }
                nuint row = (nuint)((r * n) + i);
                a00.StoreUnsafe(ref s, row);
                a01.StoreUnsafe(ref s, row + 8);
                a10.StoreUnsafe(ref s, row + (nuint)n);
                a11.StoreUnsafe(ref s, row + (nuint)n + 8);
                a20.StoreUnsafe(ref s, row + (nuint)(2 * n));
                a21.StoreUnsafe(ref s, row + (nuint)(2 * n) + 8);
                a30.StoreUnsafe(ref s, row + (nuint)(3 * n));
                a31.StoreUnsafe(ref s, row + (nuint)(3 * n) + 8);
            }
            for (; r < users.Length; r++)
            {
                ref float u0 = ref Unsafe.Add(ref u, users[r] * d);
                Vector256<float> a0 = b0, a1 = b1;
                for (int k = 0; k < d; k++)
                {
                    nuint at = (nuint)((k * n) + i);
                    Vector256<float> v = Vector256.Create(Unsafe.Add(ref u0, k));
                    a0 = (Vector256.LoadUnsafe(ref g, at) * v) + a0;
                    a1 = (Vector256.LoadUnsafe(ref g, at + 8) * v) + a1;
                }
                a0.StoreUnsafe(ref s, (nuint)((r * n) + i));
                a1.StoreUnsafe(ref s, (nuint)((r * n) + i + 8));
            }
        }
        // The last items (fewer than a tile): the same arithmetic one float at a time.
        for (int r = 0; r < users.Length; r++)
        {
            ReadOnlySpan<float> user = _users.AsSpan(users[r] * d, d);
            for (int i = tiled; i < n; i++)
            {
                float x = _bias[i];
                for (int k = 0; k < d; k++)
                {
                    x = (_items[(k * n) + i] * user[k]) + x;
                }
                scores[(r * n) + i] = x;
            }
        }
    }

    /// <summary>
    /// The dot head's scores for one user vector: item tiles of 32 (four 8-float accumulators in registers, starting
    /// from the bias), one multiply and one add per dimension in dimension order, so each score is bit for bit the
    /// fallback's (bias, then <c>items[k] * u[k] + s</c> for k = 0, 1, ...). Unlike the fallback it never reads a
    /// score back per dimension: the catalogue's vectors are read once and each score is stored once.
    /// </summary>
    private void ScoreOne(ReadOnlySpan<float> user, Span<float> scores)
    {
        int n = ItemCount, d = Width;
        ref float g = ref MemoryMarshal.GetArrayDataReference(_items);
        ref float bias = ref MemoryMarshal.GetArrayDataReference(_bias);
        ref float u = ref MemoryMarshal.GetReference(user);
        ref float s = ref MemoryMarshal.GetReference(scores);
        int i = 0;
        for (; i + 32 <= n; i += 32)
        {
            Vector256<float> a0 = Vector256.LoadUnsafe(ref bias, (nuint)i);
            Vector256<float> a1 = Vector256.LoadUnsafe(ref bias, (nuint)(i + 8));
            Vector256<float> a2 = Vector256.LoadUnsafe(ref bias, (nuint)(i + 16));
            Vector256<float> a3 = Vector256.LoadUnsafe(ref bias, (nuint)(i + 24));
            for (int k = 0; k < d; k++)
            {
                nuint at = (nuint)((k * n) + i);
                Vector256<float> v = Vector256.Create(Unsafe.Add(ref u, k));
                a0 = (Vector256.LoadUnsafe(ref g, at) * v) + a0;
                a1 = (Vector256.LoadUnsafe(ref g, at + 8) * v) + a1;
                a2 = (Vector256.LoadUnsafe(ref g, at + 16) * v) + a2;
                a3 = (Vector256.LoadUnsafe(ref g, at + 24) * v) + a3;
            }
            a0.StoreUnsafe(ref s, (nuint)i);
            a1.StoreUnsafe(ref s, (nuint)(i + 8));
            a2.StoreUnsafe(ref s, (nuint)(i + 16));
            a3.StoreUnsafe(ref s, (nuint)(i + 24));
        }
        for (; i + 8 <= n; i += 8)
        {
            Vector256<float> a = Vector256.LoadUnsafe(ref bias, (nuint)i);
            for (int k = 0; k < d; k++)
            {
                a = (Vector256.LoadUnsafe(ref g, (nuint)((k * n) + i)) * Vector256.Create(Unsafe.Add(ref u, k))) + a;
            }
            a.StoreUnsafe(ref s, (nuint)i);
        }
        for (; i < n; i++)
        {
            float x = Unsafe.Add(ref bias, i);
            for (int k = 0; k < d; k++)
            {
                x = (Unsafe.Add(ref g, (k * n) + i) * Unsafe.Add(ref u, k)) + x;
            }
            Unsafe.Add(ref s, i) = x;
        }
    }

    /// <summary>Copies item <paramref name="item"/>'s stored vector (length <see cref="Width"/>, bias left out) into <paramref name="into"/>.</summary>
    public void CopyItemVector(int item, Span<float> into)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)item, (uint)ItemCount, nameof(item));
        ArgumentOutOfRangeException.ThrowIfLessThan(into.Length, Width, nameof(into));
        for (int k = 0; k < Width; k++)
        {
            into[k] = _head.Length == 0 ? _items[(k * ItemCount) + item] : _items[(item * Width) + k];
        }
    }

    private static float[] Transpose(float[] rows, int count, int width)
    {
        var columns = new float[rows.Length];
        for (int i = 0; i < count; i++)
        {
            for (int k = 0; k < width; k++)
            {
                columns[(k * count) + i] = rows[(i * width) + k];
            }
        }
        return columns;
    }

    private static float[] Rows(Tensor t, out int width)
    {
        using Tensor cpu = t.to(CPU).contiguous();
        width = cpu.dim() > 1 ? (int)cpu.shape[^1] : 1;
        return cpu.data<float>().ToArray();
    }
}
