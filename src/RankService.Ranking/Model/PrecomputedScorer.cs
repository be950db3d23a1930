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

    /// <inheritdoc />
    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        for (int n = 0; n < users.Length; n++)
        {
            ScoreUser(users[n], scores.Slice(n * ItemCount, ItemCount));
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
