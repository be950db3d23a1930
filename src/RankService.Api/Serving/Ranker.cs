using RankService.Ranking.Model;

namespace RankService.Api.Serving;

/// <summary>One ranked movie.</summary>
/// <param name="Rank">1 for the best.</param>
/// <param name="MovieId">Raw MovieLens movie id.</param>
/// <param name="Title">Title from the data set's movies file (empty when it had none).</param>
/// <param name="Score">The model's score; higher ranks first.</param>
public sealed record RankedMovie(int Rank, long MovieId, string Title, float Score);

/// <summary>
/// Top-k over the whole catalogue for one user: one SIMD matrix-vector product over the precomputed item vectors
/// (<see cref="PrecomputedScorer"/>), then <see cref="TopK.Select"/> skipping the user's seen items. Score and
/// index buffers are per thread and reused, so a request allocates only its answer and takes no lock.
/// </summary>
public static class Ranker
{
    [ThreadStatic]
    private static float[]? t_scores;

    [ThreadStatic]
    private static int[]? t_top;

    /// <summary>
    /// The user whose raw id is spelt exactly <paramref name="rawId"/>, as the data set spells its ids (plain decimal
    /// digits, no sign, no leading zero, no spaces): "001", "+1" and " 1" are not user 1. One rule for every route.
    /// </summary>
    public static bool TryFindUser(ServingModel model, string rawId, out long id, out int index)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(rawId);
        id = 0;
        index = -1;
        return long.TryParse(rawId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id)
            && string.Equals(id.ToString(System.Globalization.CultureInfo.InvariantCulture), rawId, StringComparison.Ordinal)
            && model.TryGetUser(id, out index);
    }

    /// <summary>The user's top <paramref name="k"/> movies, best first (ties: lower item index first).</summary>
    public static RankedMovie[] TopK(ServingModel model, int user, int k, bool includeSeen)
    {
        ArgumentNullException.ThrowIfNull(model);
        float[] scores = t_scores is { } s && s.Length >= model.ItemCount ? s : t_scores = new float[model.ItemCount];
        int[] top = t_top is { } t && t.Length >= k ? t : t_top = new int[Math.Max(k, 16)];
        model.ScoreUser(user, scores);
        ReadOnlySpan<int> seen = includeSeen || model.Seen is null ? [] : model.Seen.For(user);
        int count = Ranking.Model.TopK.Select(scores.AsSpan(0, model.ItemCount), seen, k, top);

        var ranked = new RankedMovie[count];
        for (int r = 0; r < count; r++)
        {
            int item = top[r];
            ranked[r] = new RankedMovie(r + 1, model.Ids.ItemIds[item], model.Ids.Titles[item], scores[item]);
        }
        return ranked;
    }
}
