using RankService.Ranking.Splits;

namespace RankService.Ranking.Training;

/// <summary>
/// One batch of training lists, row-major [Users.Length, Width]: item indices, labels (ratings; 0 for sampled
/// negatives) and a mask (false = padding).
/// </summary>
public sealed record ListBatch(int[] Users, long[] Items, float[] Labels, bool[] Mask, int Width);

/// <summary>
/// Builds the training lists of an epoch. A user's list is their most recent <c>maxListSize</c> train items
/// (label = rating) plus <c>negativesPerList</c> items drawn uniformly from those not in their train history
/// (label 0), so the model learns to put unseen-but-relevant items above unseen-irrelevant ones.
/// Negatives are drawn from outside the train history only: excluding the held-out items too would leak them.
/// Users are bucketed by list length (sorted, then cut into batches whose order is shuffled) so padding stays small.
/// </summary>
public sealed class ListBatcher
{
    private readonly UserSplit _split;
    private readonly int[][] _sortedTrain;
    private readonly int[] _usersByLength;

    public ListBatcher(UserSplit split, int maxListSize, int negativesPerList, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxListSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(negativesPerList);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _split = split;
        MaxListSize = maxListSize;
        NegativesPerList = Math.Min(negativesPerList, split.ItemCount);
        BatchSize = batchSize;
        _sortedTrain = split.TrainItems.Select(items => items.Order().ToArray()).ToArray();
        _usersByLength = Enumerable.Range(0, split.UserCount)
            .Where(u => split.TrainItems[u].Length > 0)
            .OrderBy(u => Math.Min(split.TrainItems[u].Length, maxListSize))
            .ThenBy(u => u)
            .ToArray();
        ItemsPerEpoch = _usersByLength.Sum(u => (long)Math.Min(split.TrainItems[u].Length, maxListSize) + NegativesPerList);
    }

    public int MaxListSize { get; }
    public int NegativesPerList { get; }
    public int BatchSize { get; }

    /// <summary>Users with at least one train item: the lists of an epoch.</summary>
    public int ListCount => _usersByLength.Length;

    /// <summary>List entries (train items and sampled negatives, no padding) an epoch scores: the work behind items/s.</summary>
    public long ItemsPerEpoch { get; }

    public int BatchCount => (ListCount + BatchSize - 1) / BatchSize;

    /// <summary>The batches of one epoch, in an order shuffled by <paramref name="rng"/>; negatives drawn afresh.</summary>
    public IEnumerable<ListBatch> Epoch(Random rng)
    {
        int[] order = Enumerable.Range(0, BatchCount).ToArray();
        rng.Shuffle(order);
        foreach (int b in order)
        {
            int start = b * BatchSize;
            int count = Math.Min(BatchSize, ListCount - start);
            yield return Build(_usersByLength.AsSpan(start, count), rng);
        }
    }

    private ListBatch Build(ReadOnlySpan<int> users, Random rng)
    {
        int width = 0;
        foreach (int u in users)
        {
            width = Math.Max(width, Math.Min(_split.TrainItems[u].Length, MaxListSize) + NegativesPerList);
        }
        var items = new long[users.Length * width];
        var labels = new float[users.Length * width];
        var mask = new bool[users.Length * width];
        for (int row = 0; row < users.Length; row++)
        {
            int u = users[row];
            int[] history = _split.TrainItems[u];
            float[] ratings = _split.TrainRatings[u];
            int positives = Math.Min(history.Length, MaxListSize);
            int offset = row * width;
            int first = history.Length - positives; // most recent items sit at the end of the history
            for (int i = 0; i < positives; i++)
            {
                items[offset + i] = history[first + i];
                labels[offset + i] = ratings[first + i];
                mask[offset + i] = true;
            }
            int[] seen = _sortedTrain[u];
            int negatives = seen.Length >= _split.ItemCount ? 0 : NegativesPerList;
            for (int i = 0; i < negatives; i++)
            {
                int item;
                do
                {
                    item = rng.Next(_split.ItemCount);
                }
                while (Array.BinarySearch(seen, item) >= 0);
                items[offset + positives + i] = item;
                mask[offset + positives + i] = true;
            }
        }
        return new ListBatch(users.ToArray(), items, labels, mask, width);
    }
}
