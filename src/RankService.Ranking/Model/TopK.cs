namespace RankService.Ranking.Model;

/// <summary>
/// Partial top-k of one row of scores: a bounded min-heap, O(n log k), allocation-free. Order: score descending,
/// ties by lower index first; NaN ranks like -∞. Items listed in <c>excluded</c> (sorted ascending) are
/// skipped by walking the runs between them, with no per-item lookup.
/// </summary>
public static class TopK
{
    /// <summary>
    /// Writes the indices of the best <c>min(k, candidates)</c> items, best first, into <paramref name="result"/>
    /// (length ≥ k) and returns how many were written.
    /// </summary>
    public static int Select(ReadOnlySpan<float> scores, ReadOnlySpan<int> excluded, int k, Span<int> result)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(result.Length, k, nameof(result));
        Span<int> heap = result[..k];
        int n = scores.Length;
        int size = 0;
        int start = 0;
        for (int next = 0; next <= excluded.Length; next++)
        {
            int end = next < excluded.Length ? Math.Min(excluded[next], n) : n;
            for (int item = start; item < end; item++)
            {
                Offer(heap, scores, ref size, k, item);
            }
            start = Math.Max(start, end + 1);
        }
        return Drain(heap, scores, size);
    }

    /// <summary>
    /// Offers one item to the min-heap of the best <paramref name="k"/> so far. Items come in ascending order, so an
    /// equal score never beats a kept (lower) item.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Offer(Span<int> heap, ReadOnlySpan<float> scores, ref int size, int k, int item)
    {
        if (size < k)
        {
            heap[size] = item;
            SiftUp(heap, scores, size++);
        }
        else if (k > 0 && Key(scores[item]) > Key(scores[heap[0]]))
        {
            heap[0] = item;
            SiftDown(heap, scores, 0, size);
        }
    }

    /// <summary>Pops the worst into the last free slot until the heap is empty: the span ends up best first.</summary>
    private static int Drain(Span<int> heap, ReadOnlySpan<float> scores, int size)
    {
        for (int m = size; m > 1; m--)
        {
            int worst = heap[0];
            heap[0] = heap[m - 1];
            SiftDown(heap, scores, 0, m - 1);
            heap[m - 1] = worst;
        }
        return size;
    }

    /// <summary>
    /// As <see cref="Select(ReadOnlySpan{float}, ReadOnlySpan{int}, int, Span{int})"/>, over only the items whose bit is set
    /// in <paramref name="allowed"/> (bit i of word i / 64; bits at or past <c>scores.Length</c> are ignored): one pass
    /// that skips disqualified items a word at a time, for filters that leave out most of the catalogue. Same order and
    /// tie rule, so the answer equals Select with every cleared bit listed as excluded.
    /// </summary>
    public static int SelectAllowed(ReadOnlySpan<float> scores, ReadOnlySpan<ulong> allowed, int k, Span<int> result)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(result.Length, k, nameof(result));
        Span<int> heap = result[..k];
        int n = scores.Length;
        int size = 0;
        int words = Math.Min(allowed.Length, (n + 63) >> 6);
        for (int w = 0; w < words; w++)
        {
            ulong bits = allowed[w];
            while (bits != 0)
            {
                int item = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                if (item >= n)
                {
                    break;
                }
                Offer(heap, scores, ref size, k, item);
            }
        }
        return Drain(heap, scores, size);
    }

    /// <summary>True when <paramref name="a"/> ranks above <paramref name="b"/>.</summary>
    private static bool Better(int a, int b, ReadOnlySpan<float> scores)
    {
        float x = Key(scores[a]), y = Key(scores[b]);
        return x > y || (x == y && a < b);
    }

    /// <summary>NaN as -∞, so every comparison is a total order.</summary>
    private static float Key(float score) => float.IsNaN(score) ? float.NegativeInfinity : score;

    // Min-heap by rank: the root is the worst of the kept items.
    private static void SiftUp(Span<int> heap, ReadOnlySpan<float> scores, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Better(heap[parent], heap[i], scores))
            {
                break;
            }
            (heap[parent], heap[i]) = (heap[i], heap[parent]);
            i = parent;
        }
    }

    private static void SiftDown(Span<int> heap, ReadOnlySpan<float> scores, int i, int size)
    {
        while (true)
        {
            int left = (2 * i) + 1;
            if (left >= size)
            {
                return;
            }
            int worse = left;
            int right = left + 1;
            if (right < size && Better(heap[left], heap[right], scores))
            {
                worse = right;
            }
            if (!Better(heap[i], heap[worse], scores))
            {
                return;
            }
            (heap[i], heap[worse]) = (heap[worse], heap[i]);
            i = worse;
        }
    }
}
