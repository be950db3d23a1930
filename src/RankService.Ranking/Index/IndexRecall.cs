using System.Diagnostics;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Model;

namespace RankService.Ranking.Index;

/// <summary>
/// Recall@k of an <see cref="ItemIndex"/> against the exact ranking on the model's own vectors: for each sampled user,
/// |index top k ∩ exact top k| / k with the user's seen items excluded on both sides, averaged. The index side goes
/// through <see cref="ItemIndex.TopK"/> as serving does, so a user handed to the exact pass counts as the exact
/// answer it gets (and is counted in <see cref="Fallbacks"/>).
/// </summary>
/// <param name="RecallAt10">Mean recall at <paramref name="K"/> (10 unless asked otherwise).</param>
/// <param name="K">The cut-off.</param>
/// <param name="Users">How many users were sampled (all of them when the model has fewer than asked).</param>
/// <param name="Fallbacks">Users whose index search found fewer than k unseen candidates within the bound.</param>
/// <param name="Seconds">Wall time of the measurement.</param>
public sealed record IndexRecall(double RecallAt10, int K, int Users, int Fallbacks, double Seconds)
{
    public const int DefaultUsers = 1000;

    /// <summary>Measures over <paramref name="users"/> users drawn without replacement by a generator seeded with <paramref name="seed"/>.</summary>
    public static IndexRecall Measure(PrecomputedScorer scorer, ItemIndex index, SeenItems? seen, int users = DefaultUsers, int k = 10, int seed = 17,
        CancellationToken cancellationToken = default) =>
        Measure(index, ExactTops.Compute(scorer, seen, users, k, seed, cancellationToken), cancellationToken);

    /// <summary>
    /// Measures <paramref name="index"/> (as it searches now) against exact answers computed before, so several search
    /// expansions cost one exact pass per sampled user, not one each.
    /// </summary>
    public static IndexRecall Measure(ItemIndex index, ExactTops exact, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(exact);
        long start = Stopwatch.GetTimestamp();
        PrecomputedScorer scorer = exact.Scorer;
        SeenItems? seen = exact.Seen;
        int wanted = Math.Min(exact.K, scorer.ItemCount);
        double[] recall = new double[exact.Users.Length];
        int fallbacks = 0;
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, exact.Users.Length, options,
            () => (Scores: new float[scorer.ItemCount], Approximate: new int[wanted]),
            (n, _, buffers) =>
            {
                int user = exact.Users[n];
                int[] exactItems = exact.Tops[n];
                Func<int, bool>? allowed = seen is null || user >= seen.UserCount ? null : NotSeen(seen, user);
                int approximate = index.TopK(scorer, user, wanted, allowed, buffers.Approximate, buffers.Scores);
                if (approximate < 0)
                {
                    Interlocked.Increment(ref fallbacks);
                    recall[n] = 1.0; // the exact pass answers: what serving returns is the exact top k
                    return buffers;
                }
                int hits = 0;
                for (int i = 0; i < approximate; i++)
                {
                    hits += Array.IndexOf(exactItems, buffers.Approximate[i]) >= 0 ? 1 : 0;
                }
                recall[n] = exactItems.Length == 0 ? 1.0 : (double)hits / exactItems.Length;
                return buffers;
            },
            _ => { });
        return new IndexRecall(Math.Round(recall.Average(), 4), exact.K, exact.Users.Length, fallbacks,
            Math.Round(exact.Seconds + Stopwatch.GetElapsedTime(start).TotalSeconds, 3));
    }

    /// <summary>The filter that leaves out what the user has rated (their sorted seen list, by binary search).</summary>
    public static Func<int, bool> NotSeen(SeenItems seen, int user)
    {
        ArgumentNullException.ThrowIfNull(seen);
        return item => seen.For(user).BinarySearch(item) < 0;
    }

    internal static int[] Sample(int userCount, int users, int seed)
    {
        if (users >= userCount)
        {
            return Enumerable.Range(0, userCount).ToArray();
        }
        var random = new Random(seed);
        int[] all = Enumerable.Range(0, userCount).ToArray();
        for (int i = 0; i < users; i++)
        {
            int j = random.Next(i, userCount);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..users];
    }
}

/// <summary>
/// The exact side of a recall measurement: the sampled users and each one's exact top k (seen items excluded), over
/// the model's own vectors. Computed once, it serves every expansion an index build tries.
/// </summary>
public sealed class ExactTops
{
    private ExactTops(PrecomputedScorer scorer, SeenItems? seen, int k, int[] users, int[][] tops, double seconds)
    {
        Scorer = scorer;
        Seen = seen;
        K = k;
        Users = users;
        Tops = tops;
        Seconds = seconds;
    }

    public PrecomputedScorer Scorer { get; }

    public SeenItems? Seen { get; }

    public int K { get; }

    internal int[] Users { get; }

    internal int[][] Tops { get; }

    /// <summary>Wall time of the exact passes.</summary>
    public double Seconds { get; }

    /// <summary>Exact top <paramref name="k"/> of <paramref name="users"/> users drawn by a generator seeded with <paramref name="seed"/>.</summary>
    public static ExactTops Compute(PrecomputedScorer scorer, SeenItems? seen, int users = IndexRecall.DefaultUsers, int k = 10, int seed = 17,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentOutOfRangeException.ThrowIfLessThan(users, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        long start = Stopwatch.GetTimestamp();
        int[] sample = IndexRecall.Sample(scorer.UserCount, users, seed);
        int wanted = Math.Min(k, scorer.ItemCount);
        int[][] tops = new int[sample.Length][];
        var options = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, sample.Length, options,
            () => (Scores: new float[scorer.ItemCount], Top: new int[wanted]),
            (n, _, buffers) =>
            {
                int user = sample[n];
                ReadOnlySpan<int> excluded = seen is null || user >= seen.UserCount ? [] : seen.For(user);
                scorer.ScoreUser(user, buffers.Scores);
                int count = TopK.Select(buffers.Scores, excluded, wanted, buffers.Top);
                tops[n] = buffers.Top[..count];
                return buffers;
            },
            _ => { });
        return new ExactTops(scorer, seen, k, sample, tops, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }
}
