using RankService.Ranking.Model;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Metrics;

/// <summary>
/// Scores users the model never saw: each is folded in (<see cref="UserFoldIn"/>) from the items and values given for
/// them, then the catalogue is scored for the folded-in vector (<see cref="PrecomputedScorer.ScoreVector"/>), the path
/// a session ranking takes. Users are folded in in parallel (the fold-in is thread-safe); a user without items throws.
/// </summary>
public sealed class FoldInScorer(UserFoldIn foldIn, PrecomputedScorer scorer, int[][] items, float[][] values) : IItemScorer
{
    public int ItemCount => scorer.ItemCount;

    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        float[][] vectors = new float[users.Length][];
        int[] batch = users.ToArray();
        Parallel.For(0, batch.Length, n =>
        {
            int u = batch[n];
            FoldInItem[] given = [.. items[u].Select((item, i) => new FoldInItem(item, values[u][i]))];
            vectors[n] = foldIn.Fold(given).UserVector;
        });
        for (int n = 0; n < batch.Length; n++)
        {
            scorer.ScoreVector(vectors[n], scores.Slice(n * ItemCount, ItemCount));
        }
    }
}

/// <summary>The <c>cold-users</c> test: held-out users folded in from their fold-in items, ranked on their test items.</summary>
public static class ColdUsersEvaluator
{
    /// <summary>
    /// NDCG, Recall, ... on each held-out user's test items, against the full catalogue minus their fold-in items, for a
    /// user folded in from those fold-in items with their ratings.
    /// </summary>
    public static EvaluationResult Evaluate(UserFoldIn foldIn, PrecomputedScorer scorer, ColdUsersSplit split, IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(foldIn);
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(split);
        var folded = new FoldInScorer(foldIn, scorer, split.FoldInItems, split.FoldInRatings);
        return FullCatalogueEvaluator.Evaluate(folded, split.TestSplit, EvaluationTarget.Test, ks);
    }
}
