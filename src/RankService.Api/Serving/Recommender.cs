namespace RankService.Api.Serving;

/// <summary>
/// Turns scores over the catalogue into ranked, named items for the recommendation endpoints: one partial top-k
/// (<see cref="Ranking.Model.TopK.Select"/>) past the exclusions, paged by offset. Buffers are per thread, as in
/// <see cref="Ranker"/>.
/// </summary>
public static class Recommender
{
    [ThreadStatic]
    private static float[]? t_scores;

    [ThreadStatic]
    private static int[]? t_top;

    /// <summary>A per-thread score buffer of at least <paramref name="length"/> floats, valid until the next call on this thread.</summary>
    public static float[] Scores(int length) => t_scores is { } s && s.Length >= length ? s : t_scores = new float[length];

    /// <summary>
    /// A known user's items <paramref name="offset"/> + 1 to <paramref name="offset"/> + <paramref name="k"/>: the same
    /// order as <see cref="Ranker.TopK(ServingModel, int, int, bool)"/> (which answers when nothing is filtered or skipped), within the filter.
    /// </summary>
    public static RankedItem[] ForUser(ServingModel model, int user, int offset, int k, bool includeSeen, ItemFilter? filter) =>
        ForUser(model, user, offset, k, includeSeen, filter, exact: true, out _);

    /// <summary>
    /// As above, through the model's approximate index unless <paramref name="exact"/> or it has none (a blend has none:
    /// its scores are not the index's inner products); the index is asked for offset + k items that pass every exclusion
    /// and filter, and hands over to the exact pass when it cannot find them. <paramref name="approximate"/> says which answered.
    /// </summary>
    public static RankedItem[] ForUser(ServingModel model, int user, int offset, int k, bool includeSeen, ItemFilter? filter, bool exact, out bool approximate)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (filter is null && offset == 0)
        {
            return Ranker.TopK(model, user, k, includeSeen, exact, out approximate);
        }
        float[] scores = Scores(model.ItemCount);
        int want = offset + k;
        int[] top = t_top is { } t && t.Length >= want ? t : t_top = new int[Math.Max(want, 16)];
        int count = filter is null
            ? Ranker.Select(model, user, want, Ranker.Excluded(model, user, includeSeen), exact, top, scores, out approximate)
            : Ranker.Select(model, user, want, filter.Mask(Ranker.Excluded(model, user, includeSeen)), exact, top, scores, out approximate);
        return Ranker.Ranked(model, top, scores, offset, count);
    }

    /// <summary>Users per scored block of a batch: bounds its score buffer (block × items floats) whatever the batch size.</summary>
    private const int BatchBlock = 32;

    [ThreadStatic]
    private static float[]? t_block;

    /// <summary>
    /// Each of <paramref name="users"/> (dense, known) ranked as <see cref="ForUser(ServingModel, int, int, int, bool, ItemFilter?)"/>
    /// ranks them with offset 0 (the exact pass), equal item for item and score for score: blocks of
    /// <see cref="BatchBlock"/> users scored as one matrix product (<see cref="Ranking.Model.PrecomputedScorer.Score"/>; a
    /// blend or the concat-mlp head scores each user as the single ranking does), then one top-k per user over its row
    /// past its exclusions and the filter. The score buffer is per thread and reused.
    /// </summary>
    public static RankedItem[][] ForUsers(ServingModel model, ReadOnlySpan<int> users, int k, bool includeSeen, ItemFilter? filter)
    {
        ArgumentNullException.ThrowIfNull(model);
        int n = model.ItemCount;
        var ranked = new RankedItem[users.Length][];
        float[] block = t_block is { } b && b.Length >= BatchBlock * n ? b : t_block = new float[BatchBlock * n];
        int[] top = t_top is { } t && t.Length >= k ? t : t_top = new int[Math.Max(k, 16)];
        for (int start = 0; start < users.Length; start += BatchBlock)
        {
            ReadOnlySpan<int> chunk = users.Slice(start, Math.Min(BatchBlock, users.Length - start));
            if (model.Ease is null)
            {
                model.Scorer.Score(chunk, block);
            }
            else
            {
                for (int r = 0; r < chunk.Length; r++)
                {
                    model.ScoreUser(chunk[r], block.AsSpan(r * n, n));
                }
            }
            for (int r = 0; r < chunk.Length; r++)
            {
                ReadOnlySpan<float> row = block.AsSpan(r * n, n);
                ReadOnlySpan<int> excluded = Ranker.Excluded(model, chunk[r], includeSeen);
                int count = filter is null
                    ? Ranking.Model.TopK.Select(row, excluded, k, top)
                    : Ranking.Model.TopK.SelectAllowed(row, filter.Mask(excluded), k, top);
                ranked[start + r] = Ranker.Ranked(model, top, row, 0, count);
            }
        }
        return ranked;
    }

    /// <summary>The model's exclusions for <paramref name="user"/> (seen unless included, hidden, never-recommend) and the filter's.</summary>
    public static ReadOnlySpan<int> Excluding(ServingModel model, int user, bool includeSeen, ItemFilter? filter)
    {
        ReadOnlySpan<int> excluded = Ranker.Excluded(model, user, includeSeen);
        return filter is null ? excluded : filter.Excluding(excluded, model.ItemCount);
    }

    /// <summary>Ranks <paramref name="scores"/> past <paramref name="excluded"/> (ascending): ranks offset + 1 onwards, at most k.</summary>
    public static RankedItem[] Rank(ServingModel model, ReadOnlySpan<float> scores, ReadOnlySpan<int> excluded, int offset, int k)
    {
        ArgumentNullException.ThrowIfNull(model);
        int want = offset + k;
        int[] top = t_top is { } t && t.Length >= want ? t : t_top = new int[Math.Max(want, 16)];
        int count = Ranking.Model.TopK.Select(scores, excluded, want, top);
        return Ranker.Ranked(model, top, scores, offset, count);
    }

    /// <summary>Item <paramref name="item"/> as a ranked item.</summary>
    public static RankedItem Named(ServingModel model, int rank, int item, float score)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new RankedItem(rank, model.Ids.ItemIds[item], model.ItemNumbers?[item], model.Ids.Titles[item], score);
    }
}
