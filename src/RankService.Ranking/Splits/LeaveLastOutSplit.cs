namespace RankService.Ranking.Splits;

/// <summary>
/// Per-user temporal leave-last-out split. Arrays are indexed by dense user index. Train histories are in
/// chronological order (oldest first). <see cref="ValidationItem"/> and <see cref="TestItem"/> are -1 for users
/// with fewer than 3 ratings, who stay in train only.
/// </summary>
public sealed class LeaveLastOutSplit : UserSplit
{
    public LeaveLastOutSplit(int itemCount, int[][] trainItems, float[][] trainRatings, int[] validationItem, int[] testItem)
        : base(itemCount, trainItems, trainRatings, AsLists(validationItem), AsLists(testItem))
    {
        ValidationItem = validationItem;
        TestItem = testItem;
    }

    public int[] ValidationItem { get; }
    public int[] TestItem { get; }

    private static int[][] AsLists(int[] items)
    {
        ArgumentNullException.ThrowIfNull(items);
        return items.Select(i => i >= 0 ? new[] { i } : []).ToArray();
    }
}
