namespace RankService.Ranking.Splits;

/// <summary>
/// A per-user train / validation / test split, arrays indexed by dense user index. Each user may hold out any number
/// of items (an empty array = none). Validation items are ranked against every item outside the user's train items;
/// test items against every item outside the user's train and validation items.
/// </summary>
public class UserSplit
{
    public UserSplit(int itemCount, int[][] trainItems, float[][] trainRatings, int[][] validationItems, int[][] testItems)
    {
        ArgumentNullException.ThrowIfNull(trainItems);
        ArgumentNullException.ThrowIfNull(trainRatings);
        ArgumentNullException.ThrowIfNull(validationItems);
        ArgumentNullException.ThrowIfNull(testItems);
        if (trainRatings.Length != trainItems.Length || validationItems.Length != trainItems.Length || testItems.Length != trainItems.Length)
        {
            throw new ArgumentException("Every per-user array needs one entry per user.", nameof(trainRatings));
        }
        ItemCount = itemCount;
        TrainItems = trainItems;
        TrainRatings = trainRatings;
        ValidationItems = validationItems;
        TestItems = testItems;
    }

    public int ItemCount { get; }
    public int UserCount => TrainItems.Length;

    /// <summary>Train items per user, in the order the training lists use (most recent or last-permuted at the end).</summary>
    public int[][] TrainItems { get; }

    /// <summary>Training label of each train item: the rating (temporal) or 1 (implicit feedback, RecBole).</summary>
    public float[][] TrainRatings { get; }

    public int[][] ValidationItems { get; }
    public int[][] TestItems { get; }
}
