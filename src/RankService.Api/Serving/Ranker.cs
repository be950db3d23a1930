namespace RankService.Api.Serving;

/// <summary>One ranked movie.</summary>
/// <param name="Rank">1 for the best.</param>
/// <param name="MovieId">Raw MovieLens movie id.</param>
/// <param name="Title">Title from the data set's movies file (empty when it had none).</param>
/// <param name="Score">The model's score; higher ranks first.</param>
public sealed record RankedMovie(int Rank, long MovieId, string Title, float Score);

/// <summary>
/// Top-k over the whole catalogue for one user: one SIMD matrix-vector product over the precomputed item vectors
/// (<see cref="RankService.Ranking.Model.PrecomputedScorer"/>), the user's seen items skipped, and a bounded
/// min-heap. Score and heap buffers are per thread and reused, so a request allocates only its answer and takes no
/// lock.
/// </summary>
public static class Ranker
{
    [ThreadStatic]
    private static float[]? t_scores;

    [ThreadStatic]
    private static int[]? t_heap;

    /// <summary>The user's top <paramref name="k"/> movies, best first (ties: lower item index first).</summary>
    public static RankedMovie[] TopK(ServingModel model, int user, int k, bool includeSeen)
    {
        ArgumentNullException.ThrowIfNull(model);
        int n = model.ItemCount;
        float[] scores = t_scores is { } s && s.Length >= n ? s : t_scores = new float[n];
        int[] heap = t_heap is { } h && h.Length >= k ? h : t_heap = new int[Math.Max(k, 16)];
        model.Scorer.ScoreUser(user, scores);
        ReadOnlySpan<int> seen = includeSeen || model.Seen is null ? [] : model.Seen.For(user);

        // Candidates are the runs of items between consecutive seen items (both sorted ascending).
        int size = 0;
        int start = 0;
        for (int next = 0; next <= seen.Length; next++)
        {
            int end = next < seen.Length ? seen[next] : n;
            for (int item = start; item < end; item++)
            {
                if (size < k)
                {
                    heap[size] = item;
                    SiftUp(heap, scores, size++);
                }
                else if (scores[item] > scores[heap[0]])
                {
                    // Items come in ascending order, so an equal score never beats a kept (lower) item.
                    heap[0] = item;
                    SiftDown(heap, scores, 0, size);
                }
            }
            start = Math.Max(start, end + 1);
        }

        var ranked = new RankedMovie[size];
        for (int m = size; m > 0; m--)
        {
            int worst = heap[0];
            heap[0] = heap[m - 1];
            SiftDown(heap, scores, 0, m - 1);
            ranked[m - 1] = new RankedMovie(m, model.Ids.ItemIds[worst], model.Ids.Titles[worst], scores[worst]);
        }
        return ranked;
    }

    /// <summary>True when <paramref name="a"/> ranks above <paramref name="b"/>.</summary>
    private static bool Better(int a, int b, float[] scores) => scores[a] > scores[b] || (scores[a] == scores[b] && a < b);

    // Min-heap by rank: the root is the worst of the kept items.
    private static void SiftUp(int[] heap, float[] scores, int i)
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

    private static void SiftDown(int[] heap, float[] scores, int i, int size)
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
