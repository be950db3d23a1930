using RankService.Ranking.Data;

namespace RankService.Ranking.Splits;

/// <summary>Temporal leave-last-out: per user, the latest rating is test, the one before is validation.</summary>
public static class TemporalSplit
{
    /// <summary>Users with fewer than this many ratings stay in train only.</summary>
    public const int MinRatingsToHoldOut = 3;

    /// <summary>
    /// Splits by timestamp. Ratings with equal timestamps are ordered by item index, so the split is a function
    /// of the data alone (no RNG), and the same data always gives the same held-out items.
    /// </summary>
    public static LeaveLastOutSplit LeaveLastOut(RatingDataset data)
    {
        var perUser = new List<Rating>[data.UserCount];
        for (int u = 0; u < perUser.Length; u++)
        {
            perUser[u] = [];
        }
        foreach (Rating r in data.Ratings)
        {
            perUser[r.User].Add(r);
        }

        var trainItems = new int[data.UserCount][];
        var trainRatings = new float[data.UserCount][];
        var validation = new int[data.UserCount];
        var test = new int[data.UserCount];
        for (int u = 0; u < perUser.Length; u++)
        {
            List<Rating> history = perUser[u];
            history.Sort(static (a, b) => a.Timestamp != b.Timestamp ? a.Timestamp.CompareTo(b.Timestamp) : a.Item.CompareTo(b.Item));
            int holdOut = history.Count >= MinRatingsToHoldOut ? 2 : 0;
            int trainCount = history.Count - holdOut;
            trainItems[u] = new int[trainCount];
            trainRatings[u] = new float[trainCount];
            for (int i = 0; i < trainCount; i++)
            {
                trainItems[u][i] = history[i].Item;
                trainRatings[u][i] = history[i].Value;
            }
            validation[u] = holdOut > 0 ? history[^2].Item : -1;
            test[u] = holdOut > 0 ? history[^1].Item : -1;
        }
        return new LeaveLastOutSplit(data.ItemCount, trainItems, trainRatings, validation, test);
    }
}
