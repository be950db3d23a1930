namespace RankService.Ranking.Checkpoints;

/// <summary>
/// The never-recommend lists of a data set (dense user -> sorted dense items; see
/// <see cref="Data.RatingDataset.NeverRecommend"/>) as stored beside a checkpoint: little-endian int32 entry
/// count, then per user (ascending) its index, item count and items.
/// </summary>
public static class NeverRecommendLists
{
    public static byte[] ToBytes(IReadOnlyDictionary<int, int[]> lists)
    {
        ArgumentNullException.ThrowIfNull(lists);
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(lists.Count);
            foreach ((int user, int[] items) in lists.OrderBy(p => p.Key))
            {
                writer.Write(user);
                writer.Write(items.Length);
                foreach (int item in items)
                {
                    writer.Write(item);
                }
            }
        }
        return buffer.ToArray();
    }

    public static IReadOnlyDictionary<int, int[]> FromBytes(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        int count = reader.ReadInt32();
        var lists = new Dictionary<int, int[]>(count);
        for (int e = 0; e < count; e++)
        {
            int user = reader.ReadInt32();
            var items = new int[reader.ReadInt32()];
            for (int i = 0; i < items.Length; i++)
            {
                items[i] = reader.ReadInt32();
            }
            lists[user] = items;
        }
        return lists;
    }
}
