namespace RankService.Api.Serving;

/// <summary>One ranked movie.</summary>
/// <param name="Rank">1 for the best.</param>
/// <param name="MovieId">Raw MovieLens movie id.</param>
/// <param name="Title">Title from the data set's movies file (empty when it had none).</param>
/// <param name="Score">The model's score; higher ranks first.</param>
public sealed record RankedMovie(int Rank, long MovieId, string Title, float Score);

/// <summary>
/// Top-k over the whole catalogue for one user: the user side and one matrix product in inference mode
/// (<see cref="RankService.Ranking.Model.ModelScorer"/>), then a bounded min-heap over the model's reused buffers,
/// so a request allocates only its answer.
/// </summary>
public static class Ranker
{
    /// <summary>The user's top <paramref name="k"/> movies, best first (ties: lower item index first); null when the model was retired meanwhile.</summary>
    public static IReadOnlyList<RankedMovie>? TopK(ServingModel model, int user, int k, bool includeSeen)
    {
        ArgumentNullException.ThrowIfNull(model);
        lock (model.Gate)
        {
            if (model.IsRetired)
            {
                return null;
            }
            float[] scores = model.Scores;
            int[] heap = model.Heap;
            model.Scorer.Score([user], scores);
            ReadOnlySpan<int> seen = includeSeen || model.Seen is null ? [] : model.Seen.For(user);

            int size = 0;
            int next = 0;
            for (int item = 0; item < scores.Length; item++)
            {
                while (next < seen.Length && seen[next] < item)
                {
                    next++;
                }
                if (next < seen.Length && seen[next] == item)
                {
                    continue;
                }
                if (size < k)
                {
                    heap[size] = item;
                    SiftUp(heap, scores, size++);
                }
                else if (Better(item, heap[0], scores))
                {
                    heap[0] = item;
                    SiftDown(heap, scores, 0, size);
                }
            }

            var ranked = new RankedMovie[size];
            for (int n = size; n > 0; n--)
            {
                int worst = heap[0];
                heap[0] = heap[n - 1];
                SiftDown(heap, scores, 0, n - 1);
                ranked[n - 1] = new RankedMovie(n, model.Ids.ItemIds[worst], model.Ids.Titles[worst], scores[worst]);
            }
            return ranked;
        }
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
