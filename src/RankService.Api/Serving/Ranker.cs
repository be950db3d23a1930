using System.Text.Json.Serialization;
using RankService.Ranking.Model;

namespace RankService.Api.Serving;

/// <summary>One ranked item.</summary>
/// <param name="Rank">1 for the best.</param>
/// <param name="ItemId">The item id as the data set spells it.</param>
/// <param name="MovieId">The same id as a number, on data sets whose item ids are all integers (MovieLens,
/// synthetic), so clients written for integer ids keep working; left out otherwise.</param>
/// <param name="Title">The item's title (empty when the data set has none).</param>
/// <param name="Score">The model's score; higher ranks first.</param>
public sealed record RankedItem(int Rank, string ItemId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? MovieId, string Title, float Score);

/// <summary>
/// Top-k over the whole catalogue for one user: one SIMD matrix-vector product over the precomputed item vectors
/// (<see cref="PrecomputedScorer"/>), then <see cref="TopK.Select"/> skipping the user's seen items, hidden items and
/// the user's never-recommend items. Score, index and exclusion buffers are per thread and reused, so a request
/// allocates only its answer and takes no lock.
/// </summary>
public static class Ranker
{
    [ThreadStatic]
    private static float[]? t_scores;

    [ThreadStatic]
    private static int[]? t_top;

    [ThreadStatic]
    private static int[]? t_excluded;

    [ThreadStatic]
    private static int[]? t_merged;

    /// <summary>
    /// The user's top <paramref name="k"/> items, best first (ties: lower item index first). Hidden items and the
    /// user's never-recommend items are never returned; seen items only with <paramref name="includeSeen"/>.
    /// </summary>
    public static RankedItem[] TopK(ServingModel model, int user, int k, bool includeSeen) => TopK(model, user, k, includeSeen, exact: true, out _);

    /// <summary>
    /// As above, through the model's approximate index unless <paramref name="exact"/> or it has none (or cannot fill k,
    /// see <see cref="Ranking.Index.ItemIndex.TopK"/>); <paramref name="approximate"/> says which answered.
    /// </summary>
    public static RankedItem[] TopK(ServingModel model, int user, int k, bool includeSeen, bool exact, out bool approximate)
    {
        ArgumentNullException.ThrowIfNull(model);
        float[] scores = t_scores is { } s && s.Length >= model.ItemCount ? s : t_scores = new float[model.ItemCount];
        int[] top = t_top is { } t && t.Length >= k ? t : t_top = new int[Math.Max(k, 16)];
        int count = Select(model, user, k, Excluded(model, user, includeSeen), exact, top, scores, out approximate);
        return Ranked(model, top, scores, 0, count);
    }

    /// <summary>
    /// Writes the user's best <paramref name="want"/> items outside <paramref name="excluded"/> (ascending) into
    /// <paramref name="top"/> and returns how many, with their scores in <paramref name="scores"/>: through the model's
    /// approximate index unless <paramref name="exact"/>, it has none, or it cannot fill <paramref name="want"/> (a blend
    /// has none: its scores are not the index's inner products); else one exact pass. The one selection rule of every
    /// ranking route.
    /// </summary>
    public static int Select(ServingModel model, int user, int want, ReadOnlySpan<int> excluded, bool exact, Span<int> top, float[] scores, out bool approximate)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scores);
        if (!exact && model.Ease is null && model.Index is { } index)
        {
            int found = index.TopKExcluding(model.Scorer, user, want, excluded, top, scores);
            if (found >= 0)
            {
                approximate = true;
                return found;
            }
        }
        approximate = false;
        model.ScoreUser(user, scores);
        return Ranking.Model.TopK.Select(scores.AsSpan(0, model.ItemCount), excluded, want, top);
    }

    /// <summary>
    /// As above over only the items set in <paramref name="allowed"/> (a filter's bitset with the user's exclusions
    /// cleared, <see cref="ItemFilter.Mask"/>): the index checks its candidates against it; the exact pass walks the set bits.
    /// </summary>
    public static int Select(ServingModel model, int user, int want, ReadOnlySpan<ulong> allowed, bool exact, Span<int> top, float[] scores, out bool approximate)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scores);
        if (!exact && model.Ease is null && model.Index is { } index)
        {
            int found = index.TopKWithin(model.Scorer, user, want, allowed, top, scores);
            if (found >= 0)
            {
                approximate = true;
                return found;
            }
        }
        approximate = false;
        model.ScoreUser(user, scores);
        return Ranking.Model.TopK.SelectAllowed(scores.AsSpan(0, model.ItemCount), allowed, want, top);
    }

    /// <summary>Items <paramref name="offset"/> to <paramref name="count"/> - 1 of <paramref name="top"/> as ranked items (ranks offset + 1 onwards).</summary>
    public static RankedItem[] Ranked(ServingModel model, ReadOnlySpan<int> top, ReadOnlySpan<float> scores, int offset, int count)
    {
        var ranked = new RankedItem[Math.Max(0, count - offset)];
        for (int r = 0; r < ranked.Length; r++)
        {
            int item = top[offset + r];
            ranked[r] = Recommender.Named(model, offset + r + 1, item, scores[item]);
        }
        return ranked;
    }

    /// <summary>
    /// Seen (unless included), hidden and never-recommend items as one ascending list. The common case (no hidden,
    /// no never-recommend items) is the seen list itself, without a copy. Otherwise the span is a per-thread buffer,
    /// valid until the next call on this thread.
    /// </summary>
    public static ReadOnlySpan<int> Excluded(ServingModel model, int user, bool includeSeen)
    {
        ArgumentNullException.ThrowIfNull(model);
        ReadOnlySpan<int> seen = includeSeen || model.Seen is null ? [] : model.Seen.For(user);
        ReadOnlySpan<int> never = model.NeverRecommend(user);
        ReadOnlySpan<int> hidden = model.HiddenSpan;
        if (hidden.IsEmpty && never.IsEmpty)
        {
            return seen;
        }
        int most = seen.Length + never.Length + hidden.Length;
        int[] first = t_merged is { } m && m.Length >= most ? m : t_merged = new int[Math.Max(most, 64)];
        int[] union = t_excluded is { } e && e.Length >= most ? e : t_excluded = new int[Math.Max(most, 64)];
        int count = Merge(seen, never, first);
        return union.AsSpan(0, Merge(first.AsSpan(0, count), hidden, union));
    }

    /// <summary>The union of two ascending lists, ascending, duplicates kept once; returns its length.</summary>
    private static int Merge(ReadOnlySpan<int> a, ReadOnlySpan<int> b, Span<int> into)
    {
        int i = 0, j = 0, n = 0;
        while (i < a.Length || j < b.Length)
        {
            int next = j >= b.Length || (i < a.Length && a[i] <= b[j]) ? a[i] : b[j];
            while (i < a.Length && a[i] == next)
            {
                i++;
            }
            while (j < b.Length && b[j] == next)
            {
                j++;
            }
            into[n++] = next;
        }
        return n;
    }
}
