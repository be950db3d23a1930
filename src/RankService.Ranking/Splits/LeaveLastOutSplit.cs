namespace RankService.Ranking.Splits;

/// <summary>
/// Per-user temporal leave-last-out split. Arrays are indexed by dense user index. Train histories are in
/// chronological order (oldest first). <see cref="ValidationItem"/> and <see cref="TestItem"/> are -1 for users
/// with fewer than 3 ratings, who stay in train only.
/// </summary>
public sealed class LeaveLastOutSplit
{
    public LeaveLastOutSplit(int itemCount, int[][] trainItems, float[][] trainRatings, int[] validationItem, int[] testItem)
    {
        ItemCount = itemCount;
        TrainItems = trainItems;
        TrainRatings = trainRatings;
        ValidationItem = validationItem;
        TestItem = testItem;
    }

    public int ItemCount { get; }
    public int UserCount => TrainItems.Length;
    public int[][] TrainItems { get; }
    public float[][] TrainRatings { get; }
    public int[] ValidationItem { get; }
    public int[] TestItem { get; }
}
