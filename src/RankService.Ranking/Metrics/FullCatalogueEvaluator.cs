using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Metrics;

/// <summary>
/// Full-catalogue (unsampled) top-K evaluation: every item the user has not already seen is a candidate, and
/// the held-out items are ranked among them.
/// <para>
/// Ranking rule. Candidates are ordered by score descending with NaN below every number; among equal scores
/// non-held-out items come first, and held-out items among themselves by item index. So a single held-out item
/// has rank <c>1 + #{other candidates scoring strictly higher} + #{other candidates scoring exactly equal}</c>:
/// ties are pessimistic and a constant scorer earns no credit (HR@K = 0 unless K ≥ the number of candidates).
/// Several held-out items always get distinct ranks of one real ordering, the ordering
/// <see cref="RankingMetrics.Ndcg"/> uses for 0/1 labels.
/// </para>
/// <para>
/// Cost. Users are scored in batches of <c>batchSize</c> into one reused buffer of
/// <c>batchSize × ItemCount</c> floats (batches shrink to keep it within <see cref="MaxBufferFloats"/>); each held-out item costs one vectorised pass over its row plus one over
/// the user's excluded items. The scorer is called sequentially, because scorers (a torch module, say) need not
/// be thread-safe, and the counting is cheap next to scoring (943 × 1682 takes milliseconds), so there is no
/// Parallel.For here.
/// </para>
/// </summary>
public static class FullCatalogueEvaluator
{
    /// <summary>The most scores held at once; the users per batch shrink to fit it on large catalogues.</summary>
    public const int MaxBufferFloats = 1 << 24;

    /// <summary>
    /// Ranks each user's validation or test items of <paramref name="split"/>. Users without any are skipped.
    /// The user's train items are excluded from the candidates, and for <see cref="EvaluationTarget.Test"/> so are
    /// the validation items (RecBole masks both). Cut-offs <paramref name="ks"/> must be ≥ 1; duplicates are ignored.
    /// With <paramref name="maxUsers"/> above 0 and below the number of users with held-out items, only a sample of
    /// that many (drawn with <paramref name="sampleSeed"/>, so the same users every call) is ranked; the result says how many.
    /// <paramref name="ndcg10ByUser"/>, when given, receives each ranked user's NDCG@10 in ascending user order (the
    /// paired per-user figures a significance rule needs, e.g. <see cref="Ensembles.ScoreBlend.TuneWeight"/>).
    /// </summary>
    public static EvaluationResult Evaluate(IItemScorer scorer, UserSplit split, EvaluationTarget target,
        IReadOnlyList<int> ks, int batchSize = 256, int maxUsers = 0, int sampleSeed = 0, ICollection<double>? ndcg10ByUser = null)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(split);
        int[][] heldOut = target switch
        {
            EvaluationTarget.Validation => split.ValidationItems,
            EvaluationTarget.Test => split.TestItems,
            _ => throw new ArgumentOutOfRangeException(nameof(target), target, null),
        };
        if (scorer.ItemCount != split.ItemCount)
        {
            throw new ArgumentException(
                $"The scorer has {scorer.ItemCount} items but the split has {split.ItemCount}.", nameof(scorer));
        }
        if (target == EvaluationTarget.Validation)
        {
            return EvaluateCore(scorer, heldOut, split.TrainItems, null, ks, batchSize, maxUsers, sampleSeed, ndcg10ByUser);
        }
        if (split is LeaveLastOutSplit single)
        {
            // The one validation item rides along as one extra exclusion rather than copying every train history.
            return EvaluateCore(scorer, heldOut, split.TrainItems, single.ValidationItem, ks, batchSize, maxUsers, sampleSeed, ndcg10ByUser);
        }
        int[][] excluded = new int[split.UserCount][];
        for (int u = 0; u < excluded.Length; u++)
        {
            excluded[u] = heldOut[u].Length > 0 ? [.. split.TrainItems[u], .. split.ValidationItems[u]] : [];
        }
        return EvaluateCore(scorer, heldOut, excluded, null, ks, batchSize, maxUsers, sampleSeed, ndcg10ByUser);
    }

    /// <summary>
    /// The general protocol: user <c>u</c> has the relevant items <c>heldOut[u]</c> (any number; users with none
    /// are skipped) and the items <c>excluded[u]</c> removed from its candidates (typically its train items).
    /// A held-out item stays a candidate even if it is also listed as excluded; duplicates are ignored, in the
    /// item lists and in the cut-offs <paramref name="ks"/> (each ≥ 1).
    /// </summary>
    public static EvaluationResult Evaluate(IItemScorer scorer, int[][] heldOut, int[][] excluded,
        IReadOnlyList<int> ks, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        return EvaluateCore(scorer, heldOut, excluded, null, ks, batchSize);
    }

    private static EvaluationResult EvaluateCore(IItemScorer scorer, int[][] heldOut, int[][] excluded,
        int[]? alsoExcluded, IReadOnlyList<int> ks, int batchSize, int maxUsers = 0, int sampleSeed = 0, ICollection<double>? ndcg10ByUser = null)
    {
        ArgumentNullException.ThrowIfNull(heldOut);
        ArgumentNullException.ThrowIfNull(excluded);
        ArgumentNullException.ThrowIfNull(ks);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (heldOut.Length != excluded.Length)
        {
            throw new ArgumentException("heldOut and excluded need one entry per user.", nameof(excluded));
        }
        int[] cutoffs = ks.Distinct().Order().ToArray();
        if (cutoffs.Length == 0 || cutoffs[0] < 1)
        {
            throw new ArgumentException("Need at least one cut-off, each >= 1.", nameof(ks));
        }

        var users = new List<int>();
        for (int u = 0; u < heldOut.Length; u++)
        {
            if (heldOut[u] is { Length: > 0 })
            {
                users.Add(u);
            }
        }

        if (maxUsers > 0 && users.Count > maxUsers)
        {
            // A partial Fisher-Yates draw, then index order again (scoring order does not matter, but it is cheaper in order).
            var random = new Random(sampleSeed);
            for (int i = 0; i < maxUsers; i++)
            {
                int j = random.Next(i, users.Count);
                (users[i], users[j]) = (users[j], users[i]);
            }
            users.RemoveRange(maxUsers, users.Count - maxUsers);
            users.Sort();
        }

        int itemCount = scorer.ItemCount;
        var ranker = new UserRanker(itemCount);
        var sums = new MetricSums(cutoffs);
        // At most MaxBufferFloats scores at once (64 MB): 256 users of ml-25m, 16 of a million-item catalogue.
        batchSize = Math.Max(1, Math.Min(batchSize, MaxBufferFloats / Math.Max(1, itemCount)));
        float[] buffer = new float[Math.Min(batchSize, users.Count) * itemCount];
        for (int start = 0; start < users.Count; start += batchSize)
        {
            ReadOnlySpan<int> batch = CollectionsMarshal.AsSpan(users).Slice(start, Math.Min(batchSize, users.Count - start));
            Span<float> scores = buffer.AsSpan(0, batch.Length * itemCount);
            scorer.Score(batch, scores);
            for (int i = 0; i < batch.Length; i++)
            {
                int u = batch[i];
                ReadOnlySpan<int> ranks = ranker.Rank(scores.Slice(i * itemCount, itemCount),
                    heldOut[u], excluded[u] ?? [], alsoExcluded?[u] ?? -1);
                sums.Add(ranks);
                ndcg10ByUser?.Add(RankingMetrics.BinaryNdcg(ranks, 10));
            }
        }
        return new EvaluationResult(sums.Averages(users.Count), users.Count);
    }

    /// <summary>Ranks one user's held-out items in one row of scores; reuses its scratch space across users.</summary>
    private sealed class UserRanker(int itemCount)
    {
        // mark[item] == the current user's stamp says "already seen for this user", so nothing is cleared between users.
        private readonly int[] _mark = new int[itemCount];
        private int _stamp;
        private readonly List<int> _heldOut = [];
        private readonly List<int> _excluded = [];
        private int[] _ranks = new int[4];

        /// <returns>The 1-based ranks of the distinct held-out items, ascending; valid until the next call.</returns>
        public ReadOnlySpan<int> Rank(ReadOnlySpan<float> row, int[] heldOut, int[] excluded, int alsoExcluded)
        {
            int heldStamp = ++_stamp, excludedStamp = ++_stamp;
            _heldOut.Clear();
            _excluded.Clear();
            foreach (int h in heldOut)
            {
                CheckItem(h, nameof(heldOut));
                if (_mark[h] != heldStamp)
                {
                    _mark[h] = heldStamp;
                    _heldOut.Add(h);
                }
            }
            foreach (int e in excluded)
            {
                Exclude(e, heldStamp, excludedStamp);
            }
            if (alsoExcluded >= 0)
            {
                Exclude(alsoExcluded, heldStamp, excludedStamp);
            }

            if (_ranks.Length < _heldOut.Count)
            {
                _ranks = new int[Math.Max(_heldOut.Count, 2 * _ranks.Length)];
            }
            for (int i = 0; i < _heldOut.Count; i++)
            {
                int h = _heldOut[i];
                float s = row[h];
                // Candidates at or above s, h itself included: all items, less the excluded ones...
                int atOrAbove = CountAtOrAbove(row, s);
                foreach (int e in _excluded)
                {
                    if (AtOrAbove(row[e], s))
                    {
                        atOrAbove--;
                    }
                }
                // ...less the tied held-out items that the tie rule puts after h.
                foreach (int other in _heldOut)
                {
                    if (other > h && (row[other] == s || (float.IsNaN(row[other]) && float.IsNaN(s))))
                    {
                        atOrAbove--;
                    }
                }
                _ranks[i] = atOrAbove;
            }
            Span<int> ranks = _ranks.AsSpan(0, _heldOut.Count);
            ranks.Sort();
            return ranks;
        }

        private void Exclude(int item, int heldStamp, int excludedStamp)
        {
            CheckItem(item, "excluded");
            if (_mark[item] != heldStamp && _mark[item] != excludedStamp)
            {
                _mark[item] = excludedStamp;
                _excluded.Add(item);
            }
        }

        private void CheckItem(int item, string paramName)
        {
            if ((uint)item >= (uint)_mark.Length)
            {
                throw new ArgumentOutOfRangeException(paramName, item, $"Item index outside 0..{_mark.Length - 1}.");
            }
        }

        /// <summary>Whether score v sorts at or above s, NaN being the lowest score and tying with NaN.</summary>
        private static bool AtOrAbove(float v, float s) => float.IsNaN(s) || v >= s;

        private static int CountAtOrAbove(ReadOnlySpan<float> row, float s)
        {
            if (float.IsNaN(s))
            {
                return row.Length;
            }
            int count = 0, i = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var threshold = new Vector<float>(s);
                var lanes = Vector<int>.Zero;
                ReadOnlySpan<Vector<float>> vectors = MemoryMarshal.Cast<float, Vector<float>>(row);
                foreach (Vector<float> v in vectors)
                {
                    lanes -= Vector.GreaterThanOrEqual(v, threshold); // true lanes are -1; NaN compares false
                }
                count = Vector.Sum(lanes);
                i = vectors.Length * Vector<float>.Count;
            }
            for (; i < row.Length; i++)
            {
                if (row[i] >= s)
                {
                    count++;
                }
            }
            return count;
        }
    }

    /// <summary>Per-user metric sums, in the order they are reported.</summary>
    private sealed class MetricSums(int[] cutoffs)
    {
        private readonly double[] _hitRate = new double[cutoffs.Length];
        private readonly double[] _ndcg = new double[cutoffs.Length];
        private readonly double[] _mrrAtK = new double[cutoffs.Length];
        private readonly double[] _recall = new double[cutoffs.Length];
        private readonly double[] _precision = new double[cutoffs.Length];
        private readonly double[] _map = new double[cutoffs.Length];
        private double _mrr;

        public void Add(ReadOnlySpan<int> ranks)
        {
            for (int c = 0; c < cutoffs.Length; c++)
            {
                int k = cutoffs[c];
                _hitRate[c] += RankingMetrics.HitRate(ranks, k);
                _ndcg[c] += RankingMetrics.BinaryNdcg(ranks, k);
                _mrrAtK[c] += RankingMetrics.ReciprocalRank(ranks, k);
                _recall[c] += RankingMetrics.Recall(ranks, k);
                _precision[c] += RankingMetrics.Precision(ranks, k);
                _map[c] += RankingMetrics.AveragePrecision(ranks, k);
            }
            _mrr += RankingMetrics.ReciprocalRank(ranks);
        }

        public Dictionary<string, double> Averages(int users)
        {
            double scale = users > 0 ? 1.0 / users : 0;
            var metrics = new Dictionary<string, double>();
            void Family(string name, double[] sums)
            {
                for (int c = 0; c < cutoffs.Length; c++)
                {
                    metrics[string.Create(CultureInfo.InvariantCulture, $"{name}@{cutoffs[c]}")] = sums[c] * scale;
                }
            }
            Family("HR", _hitRate);
            Family("NDCG", _ndcg);
            metrics["MRR"] = _mrr * scale;
            Family("MRR", _mrrAtK);
            Family("Recall", _recall);
            Family("Precision", _precision);
            Family("MAP", _map);
            return metrics;
        }
    }
}
