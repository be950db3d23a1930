using RankService.Ranking.Model;

namespace RankService.Ranking.Index;

/// <summary>
/// The exact pass with a filter predicate: every item scored, the best <c>k</c> of those the predicate accepts, in the
/// exact order (score descending, NaN last, ties by lower index). What <see cref="ItemIndex.TopK"/> falls back to
/// when its candidates cannot fill k, and the ranking of <c>concat-mlp</c> models and small catalogues under filters.
/// </summary>
public static class FilteredTopK
{
    /// <summary>
    /// Scores every item into <paramref name="scores"/> and writes the best <c>min(k, qualifying)</c> accepted items
    /// into <paramref name="top"/>; returns how many.
    /// </summary>
    public static int Select(PrecomputedScorer scorer, int user, int k, Func<int, bool>? allowed, Span<int> top, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(top.Length, k, nameof(top));
        int n = scorer.ItemCount;
        scorer.ScoreUser(user, scores);
        if (allowed is null)
        {
            return TopK.Select(scores[..n], [], k, top);
        }
        // The refused items as a sorted exclusion list: TopK walks the runs between them.
        var refused = new List<int>();
        for (int item = 0; item < n; item++)
        {
            if (!allowed(item))
            {
                refused.Add(item);
            }
        }
        return TopK.Select(scores[..n], System.Runtime.InteropServices.CollectionsMarshal.AsSpan(refused), k, top);
    }
}
