using RankService.Ranking.Metrics;
using RankService.Ranking.Splits;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Baselines;

/// <summary>
/// EASE (Steck 2019), the closed-form item-item model: with X the binary user × item matrix of train interactions,
/// <code>
///   P = (XᵀX + λI)⁻¹,   B_ij = −P_ij / P_jj (i ≠ j),   B_jj = 0,   score(u, ·) = X_u B
/// </code>
/// the minimiser of ‖X − XB‖² + λ‖B‖² subject to diag(B) = 0. The inverse is taken in float64 (one
/// items × items matrix: 1682² on ml-100k, well under a second); scores use float32 rows of B.
/// </summary>
public sealed class EaseScorer : IItemScorer
{
    private readonly float[] _b;
    private readonly int[][] _history;

    private EaseScorer(int itemCount, float[] b, int[][] history)
    {
        ItemCount = itemCount;
        _b = b;
        _history = history;
    }

    public int ItemCount { get; }

    public double Lambda { get; private init; }

    /// <summary>Fits B on the train items of <paramref name="split"/> (each user's item set, ratings ignored).</summary>
    public static EaseScorer Fit(UserSplit split, double lambda)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lambda);
        int n = split.ItemCount;
        int[][] history = split.TrainItems.Select(items => items.Distinct().ToArray()).ToArray();
        var gram = new double[(long)n * n];
        foreach (int[] items in history)
        {
            foreach (int i in items)
            {
                long row = (long)i * n;
                foreach (int j in items)
                {
                    gram[row + j] += 1;
                }
            }
        }
        for (int i = 0; i < n; i++)
        {
            gram[(long)i * n + i] += lambda;
        }

        var b = new float[(long)n * n];
        using (NewDisposeScope())
        {
            Tensor p = linalg.inv(tensor(gram, new long[] { n, n }, dtype: ScalarType.Float64));
            Tensor diagonal = p.diagonal();
            // B_ij = -P_ij / P_jj: divide each column j by P_jj.
            Tensor weights = p.div(diagonal.unsqueeze(0)).neg();
            weights.to_type(ScalarType.Float32).contiguous().data<float>().CopyTo(b);
        }
        for (int i = 0; i < n; i++)
        {
            b[(long)i * n + i] = 0; // the constraint diag(B) = 0: an item may not predict itself
        }
        return new EaseScorer(n, b, history) { Lambda = lambda };
    }

    /// <summary>The item-item weights B, row-major (row i: what item i adds to every item's score).</summary>
    public ReadOnlySpan<float> Weights => _b;

    /// <summary>
    /// An EASE model from saved weights <paramref name="b"/> (n × n, row-major) over the users' item histories
    /// <paramref name="history"/> (served: every item each user rated).
    /// </summary>
    public static EaseScorer FromWeights(int itemCount, float[] b, int[][] history, double lambda)
    {
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(history);
        if (b.LongLength != (long)itemCount * itemCount)
        {
            throw new ArgumentException($"EASE weights for {itemCount} items need {(long)itemCount * itemCount} values; got {b.LongLength}.", nameof(b));
        }
        return new EaseScorer(itemCount, b, history) { Lambda = lambda };
    }

    /// <summary>The EASE scores of any item set (a user's history, or a session's items): the sum of their rows of B.</summary>
    public void ScoreItems(ReadOnlySpan<int> items, Span<float> row)
    {
        int n = ItemCount;
        if (row.Length < n)
        {
            throw new ArgumentException("Need ItemCount scores.", nameof(row));
        }
        row[..n].Clear();
        foreach (int i in items)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)i, (uint)n, nameof(items));
            AddInPlace(row[..n], _b.AsSpan(i * n, n));
        }
    }

    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        int n = ItemCount;
        if (scores.Length < users.Length * n)
        {
            throw new ArgumentException("Need users.Length * ItemCount scores.", nameof(scores));
        }
        for (int r = 0; r < users.Length; r++)
        {
            Span<float> row = scores.Slice(r * n, n);
            row.Clear();
            foreach (int i in _history[users[r]])
            {
                ReadOnlySpan<float> weights = _b.AsSpan(i * n, n);
                AddInPlace(row, weights);
            }
        }
    }

    private static void AddInPlace(Span<float> row, ReadOnlySpan<float> add)
    {
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            Span<System.Numerics.Vector<float>> target = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(row);
            ReadOnlySpan<System.Numerics.Vector<float>> source = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(add);
            for (int v = 0; v < target.Length; v++)
            {
                target[v] += source[v];
            }
            i = target.Length * System.Numerics.Vector<float>.Count;
        }
        for (; i < row.Length; i++)
        {
            row[i] += add[i];
        }
    }
}
