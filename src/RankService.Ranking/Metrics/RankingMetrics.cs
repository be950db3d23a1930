namespace RankService.Ranking.Metrics;

/// <summary>
/// Ranking metrics as plain float64 functions, in the style of allRank's <c>metrics.py</c>.
/// <para>
/// <see cref="Ndcg"/> takes a scored list with graded labels. The other functions take the 1-based ranks of the
/// relevant items in one ranked list (so the ranks are distinct, in any order) and treat relevance as binary;
/// the number of relevant items is <c>ranks.Length</c>. All of them return 0 when there is nothing relevant,
/// so an empty case adds nothing to an average instead of poisoning it with NaN.
/// </para>
/// </summary>
public static class RankingMetrics
{
    /// <summary>
    /// NDCG@k with exponential gain:
    /// <c>DCG@k = Σ_{r=1..min(k,n)} (2^label_r − 1) / log2(r + 1)</c> over the list ordered by score, and
    /// <c>NDCG@k = DCG@k / IDCG@k</c> where IDCG@k is the DCG@k of the labels sorted descending.
    /// Returns 0 when IDCG@k is 0 (no positive label).
    /// <para>
    /// Ties are broken pessimistically and deterministically: by score descending, then label ascending, then
    /// position in the input; NaN scores rank below every number. A constant scorer therefore earns the worst
    /// DCG its labels allow, never credit for a lucky order.
    /// </para>
    /// <para>Labels must be ≥ 0 and k ≥ 1; a k beyond the list length means the whole list.</para>
    /// </summary>
    public static double Ndcg(ReadOnlySpan<double> scores, ReadOnlySpan<double> labels, int k)
    {
        if (scores.Length != labels.Length)
        {
            throw new ArgumentException("scores and labels must have the same length.", nameof(labels));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        foreach (double label in labels)
        {
            if (!(label >= 0)) // also rejects NaN
            {
                throw new ArgumentOutOfRangeException(nameof(labels), label, "Labels must be non-negative numbers.");
            }
        }
        int n = scores.Length;
        int top = Math.Min(k, n);

        var order = new (double Score, double Label, int Index)[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = (scores[i], labels[i], i);
        }
        // double.CompareTo orders NaN below every number, so descending by score puts NaN last.
        Array.Sort(order, static (a, b) =>
        {
            int c = b.Score.CompareTo(a.Score);
            if (c == 0)
            {
                c = a.Label.CompareTo(b.Label);
            }
            return c != 0 ? c : a.Index.CompareTo(b.Index);
        });

        double[] ideal = labels.ToArray();
        Array.Sort(ideal, static (a, b) => b.CompareTo(a));

        double dcg = 0, idcg = 0;
        for (int r = 1; r <= top; r++)
        {
            dcg += Gain(order[r - 1].Label) * Discount(r);
            idcg += Gain(ideal[r - 1]) * Discount(r);
        }
        return idcg > 0 ? dcg / idcg : 0;
    }

    /// <summary>HitRate@k = 1 if any relevant item has rank ≤ k, else 0.</summary>
    public static double HitRate(ReadOnlySpan<int> ranks, int k) => Hits(ranks, k) > 0 ? 1 : 0;

    /// <summary>Recall@k = |{relevant with rank ≤ k}| / |relevant|.</summary>
    public static double Recall(ReadOnlySpan<int> ranks, int k) =>
        ranks.IsEmpty ? 0 : (double)Hits(ranks, k) / ranks.Length;

    /// <summary>Precision@k = |{relevant with rank ≤ k}| / k (k, not the list length: a short list is not rewarded).</summary>
    public static double Precision(ReadOnlySpan<int> ranks, int k) => (double)Hits(ranks, k) / k;

    /// <summary>
    /// Binary NDCG@k: <c>DCG@k = Σ_{relevant, rank r ≤ k} 1 / log2(r + 1)</c>, divided by the ideal
    /// <c>IDCG@k = Σ_{r=1..min(|relevant|, k)} 1 / log2(r + 1)</c>. With one relevant item this is
    /// <c>1 / log2(rank + 1)</c> inside the cut-off. Equals <see cref="Ndcg"/> with 0/1 labels.
    /// </summary>
    public static double BinaryNdcg(ReadOnlySpan<int> ranks, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        double dcg = 0;
        foreach (int r in ranks)
        {
            if (r <= k)
            {
                dcg += Discount(r);
            }
        }
        int idealHits = Math.Min(ranks.Length, k);
        double idcg = 0;
        for (int r = 1; r <= idealHits; r++)
        {
            idcg += Discount(r);
        }
        return idcg > 0 ? dcg / idcg : 0;
    }

    /// <summary>Reciprocal rank without cut-off: <c>1 / min(rank)</c> (the MRR of one query).</summary>
    public static double ReciprocalRank(ReadOnlySpan<int> ranks) => ranks.IsEmpty ? 0 : 1.0 / Min(ranks);

    /// <summary>Reciprocal rank at k: <c>1 / min(rank)</c> if that rank is ≤ k, else 0 (MRR@k of one query).</summary>
    public static double ReciprocalRank(ReadOnlySpan<int> ranks, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (ranks.IsEmpty)
        {
            return 0;
        }
        int first = Min(ranks);
        return first <= k ? 1.0 / first : 0;
    }

    /// <summary>
    /// Average precision at k (the per-query term of MAP@k):
    /// <c>AP@k = Σ_{relevant, rank r ≤ k} Precision@r / min(|relevant|, k)</c>, where Precision@r counts the
    /// relevant items ranked at or above r. The min in the denominator lets a perfect list score 1 even when
    /// there are more relevant items than slots.
    /// </summary>
    public static double AveragePrecision(ReadOnlySpan<int> ranks, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (ranks.IsEmpty)
        {
            return 0;
        }
        // Precision@r needs the ranks in order; the evaluator passes them sorted, so copy only when they are not.
        int[]? sortedCopy = null;
        if (!IsSortedAscending(ranks))
        {
            sortedCopy = ranks.ToArray();
            Array.Sort(sortedCopy);
            ranks = sortedCopy;
        }
        double sum = 0;
        for (int i = 0; i < ranks.Length && ranks[i] <= k; i++)
        {
            sum += (double)(i + 1) / ranks[i];
        }
        return sum / Math.Min(ranks.Length, k);
    }

    private static double Gain(double label) => Math.Pow(2, label) - 1;

    private static double Discount(int rank) => 1 / Math.Log2(rank + 1);

    private static int Hits(ReadOnlySpan<int> ranks, int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        int hits = 0;
        foreach (int r in ranks)
        {
            if (r <= k)
            {
                hits++;
            }
        }
        return hits;
    }

    private static int Min(ReadOnlySpan<int> ranks)
    {
        int min = int.MaxValue;
        foreach (int r in ranks)
        {
            min = Math.Min(min, r);
        }
        return min;
    }

    private static bool IsSortedAscending(ReadOnlySpan<int> ranks)
    {
        for (int i = 1; i < ranks.Length; i++)
        {
            if (ranks[i] < ranks[i - 1])
            {
                return false;
            }
        }
        return true;
    }
}
