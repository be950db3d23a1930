using RankService.Ranking.Data;

namespace RankService.Ranking.Splits;

/// <summary>
/// The <c>cold-users</c> protocol: a seeded share of the users (10 %) is held out; each held-out user's distinct items
/// are split at random (seeded) into a fold-in part (80 %) and a test part (20 %). Every other user keeps all but a
/// random 10 % of their items for training; that 10 % is validation (early stopping and model selection). Labels are
/// the ratings, as under the temporal protocol.
/// <list type="bullet">
/// <item><c>cold-users</c> (<see cref="TrainedIn"/> false): held-out users have no train items at all; the model never
/// sees them. Their test items are ranked for a user folded in from the fold-in items (<see cref="Model.UserFoldIn"/>),
/// against the full catalogue minus the fold-in items (<see cref="TestSplit"/>).</item>
/// <item><c>cold-users-warm</c> (<see cref="TrainedIn"/> true): the same split with the fold-in items in training, so the
/// same users' same test items measure the model that was trained on them: the reference cold start is compared with.</item>
/// </list>
/// Only held-out users have test items, so a run's test metrics are about them; popularity on the same split ranks the
/// same test items against the same candidates. The same data and seed give the same split, for either variant.
/// </summary>
public sealed class ColdUsersSplit : UserSplit
{
    /// <summary>Share of users held out.</summary>
    public const double HeldOutShare = 0.1;

    /// <summary>Share of a held-out user's items folded in (the rest is test).</summary>
    public const double FoldInShare = 0.8;

    /// <summary>Share of a training user's items kept for validation.</summary>
    public const double ValidationShare = 0.1;

    /// <summary>Held-out users need at least this many distinct items (one to fold in, one to test).</summary>
    public const int MinItemsToHoldOut = 2;

    private ColdUsersSplit(int itemCount, int[][] train, float[][] labels, int[][] validation, int[][] test,
        int[] heldOut, int[][] foldInItems, float[][] foldInRatings, bool trainedIn)
        : base(itemCount, train, labels, validation, test)
    {
        HeldOutUsers = heldOut;
        FoldInItems = foldInItems;
        FoldInRatings = foldInRatings;
        TrainedIn = trainedIn;
        TestSplit = trainedIn
            ? this
            : new UserSplit(itemCount, foldInItems, foldInRatings, [.. validation.Select(_ => Array.Empty<int>())], test);
    }

    /// <summary>Dense indices of the held-out users, ascending.</summary>
    public int[] HeldOutUsers { get; }

    /// <summary>Per user: the items a held-out user is folded in from (chronological); empty for every other user.</summary>
    public int[][] FoldInItems { get; }

    /// <summary>The ratings of <see cref="FoldInItems"/>.</summary>
    public float[][] FoldInRatings { get; }

    /// <summary>Whether the held-out users' fold-in items are in training (<c>cold-users-warm</c>).</summary>
    public bool TrainedIn { get; }

    /// <summary>
    /// The split to evaluate test on: held-out users with their fold-in items as the excluded history and their test
    /// items; nobody else. For <c>cold-users-warm</c> it is this split (their fold-in items are their train items).
    /// </summary>
    public UserSplit TestSplit { get; }

    /// <summary>Splits <paramref name="data"/>; <paramref name="trainedIn"/> puts the fold-in items in training.</summary>
    public static ColdUsersSplit Create(RatingDataset data, int seed, bool trainedIn)
    {
        ArgumentNullException.ThrowIfNull(data);
        var perUser = new List<Rating>[data.UserCount];
        for (int u = 0; u < perUser.Length; u++)
        {
            perUser[u] = [];
        }
        foreach (Rating r in data.Ratings)
        {
            perUser[r.User].Add(r);
        }
        // Chronological (ties by item), one entry per item (its latest rating): train lists keep the most recent items.
        var histories = new Rating[data.UserCount][];
        for (int u = 0; u < perUser.Length; u++)
        {
            var latest = new Dictionary<int, Rating>();
            foreach (Rating r in perUser[u].OrderBy(r => r.Timestamp).ThenBy(r => r.Item))
            {
                latest.Remove(r.Item);
                latest[r.Item] = r;
            }
            histories[u] = [.. latest.Values.OrderBy(r => r.Timestamp).ThenBy(r => r.Item)];
        }

        var rng = new Random(seed);
        int[] eligible = [.. Enumerable.Range(0, data.UserCount).Where(u => histories[u].Length >= MinItemsToHoldOut)];
        rng.Shuffle(eligible);
        int heldOutCount = Math.Min(eligible.Length, (int)Math.Round(HeldOutShare * data.UserCount, MidpointRounding.AwayFromZero));
        int[] heldOut = [.. eligible.Take(heldOutCount).Order()];
        var isHeldOut = new bool[data.UserCount];
        foreach (int u in heldOut)
        {
            isHeldOut[u] = true;
        }

        var train = new int[data.UserCount][];
        var labels = new float[data.UserCount][];
        var validation = new int[data.UserCount][];
        var test = new int[data.UserCount][];
        var foldIn = new int[data.UserCount][];
        var foldInRatings = new float[data.UserCount][];
        for (int u = 0; u < data.UserCount; u++)
        {
            Rating[] history = histories[u];
            int n = history.Length;
            int[] order = [.. Enumerable.Range(0, n)];
            rng.Shuffle(order);
            int aside = isHeldOut[u]
                ? Math.Clamp((int)Math.Round((1 - FoldInShare) * n, MidpointRounding.AwayFromZero), 1, n - 1)
                : n >= 2 ? Math.Max(1, (int)Math.Round(ValidationShare * n, MidpointRounding.AwayFromZero)) : 0;
            var set = new HashSet<int>(order.Take(aside));
            // Both parts keep the chronological order of the history.
            Rating[] kept = [.. history.Where((_, i) => !set.Contains(i))];
            int[] setAside = [.. history.Where((_, i) => set.Contains(i)).Select(r => r.Item)];
            int[] keptItems = [.. kept.Select(r => r.Item)];
            float[] keptRatings = [.. kept.Select(r => r.Value)];
            if (isHeldOut[u])
            {
                foldIn[u] = keptItems;
                foldInRatings[u] = keptRatings;
                train[u] = trainedIn ? keptItems : [];
                labels[u] = trainedIn ? keptRatings : [];
                validation[u] = [];
                test[u] = setAside;
            }
            else
            {
                foldIn[u] = [];
                foldInRatings[u] = [];
                train[u] = keptItems;
                labels[u] = keptRatings;
                validation[u] = setAside;
                test[u] = [];
            }
        }
        return new ColdUsersSplit(data.ItemCount, train, labels, validation, test, heldOut, foldIn, foldInRatings, trainedIn);
    }
}
