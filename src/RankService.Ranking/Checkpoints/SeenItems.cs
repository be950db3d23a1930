using RankService.Ranking.Data;

namespace RankService.Ranking.Checkpoints;

/// <summary>
/// Every item each user rated (dense indices, sorted), so a served ranking can leave them out without the
/// data set in memory. Stored beside a checkpoint as little-endian int32: user count, then per user the
/// item count and the items.
/// </summary>
public sealed class SeenItems
{
    private readonly int[][] _items;

    public SeenItems(int[][] items) => _items = items;

    public int UserCount => _items.Length;

    /// <summary>The user's rated items, sorted ascending.</summary>
    public ReadOnlySpan<int> For(int user) => _items[user];

    public static SeenItems FromDataset(RatingDataset data)
    {
        var lists = new List<int>[data.UserCount];
        for (int u = 0; u < lists.Length; u++)
        {
            lists[u] = [];
        }
        foreach (Rating r in data.Ratings)
        {
            lists[r.User].Add(r.Item);
        }
        return new SeenItems(lists.Select(l => l.Distinct().Order().ToArray()).ToArray());
    }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            writer.Write(_items.Length);
            foreach (int[] items in _items)
            {
                writer.Write(items.Length);
                foreach (int item in items)
                {
                    writer.Write(item);
                }
            }
        }
        return buffer.ToArray();
    }

    public static SeenItems FromBytes(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        var items = new int[reader.ReadInt32()][];
        for (int u = 0; u < items.Length; u++)
        {
            items[u] = new int[reader.ReadInt32()];
            for (int i = 0; i < items[u].Length; i++)
            {
                items[u][i] = reader.ReadInt32();
            }
        }
        return new SeenItems(items);
    }
}
