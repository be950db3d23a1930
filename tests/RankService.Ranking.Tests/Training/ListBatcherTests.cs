using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Training;

public class ListBatcherTests
{
    private static LeaveLastOutSplit Split()
    {
        // 5 users with 1..5 train items over 12 items; held-out items set so the split is valid.
        int[][] train = [[0], [1, 2], [3, 4, 5], [6, 7, 8, 9], [0, 2, 4, 6, 8]];
        float[][] ratings = train.Select(t => t.Select(i => (float)(1 + (i % 5))).ToArray()).ToArray();
        return new LeaveLastOutSplit(12, train, ratings, [10, 10, 10, 10, 10], [11, 11, 11, 11, 11]);
    }

    [Fact]
    public void Every_user_appears_once_per_epoch_with_recent_items_labelled_by_rating_and_unseen_negatives()
    {
        LeaveLastOutSplit split = Split();
        var batcher = new ListBatcher(split, maxListSize: 3, negativesPerList: 4, batchSize: 2);
        List<ListBatch> batches = batcher.Epoch(new Random(1)).ToList();
        Assert.Equal(3, batches.Count);
        Assert.Equal(Enumerable.Range(0, 5), batches.SelectMany(b => b.Users).Order());

        foreach (ListBatch batch in batches)
        {
            for (int row = 0; row < batch.Users.Length; row++)
            {
                int u = batch.Users[row];
                int[] history = split.TrainItems[u];
                int[] expectedPositives = history.Skip(Math.Max(0, history.Length - 3)).ToArray();
                var cells = Enumerable.Range(row * batch.Width, batch.Width).Where(i => batch.Mask[i]).ToList();
                Assert.Equal(expectedPositives.Length + 4, cells.Count);

                var positives = cells.Where(i => batch.Labels[i] > 0).ToList();
                Assert.Equal(expectedPositives, positives.Select(i => (int)batch.Items[i]));
                Assert.All(positives, i => Assert.Equal(1 + (batch.Items[i] % 5), batch.Labels[i]));

                var negatives = cells.Where(i => batch.Labels[i] == 0).Select(i => (int)batch.Items[i]).ToList();
                Assert.Equal(4, negatives.Count);
                Assert.All(negatives, n => Assert.DoesNotContain(n, history));
            }
        }
    }

    [Fact]
    public void Items_per_epoch_counts_the_unpadded_list_entries_an_epoch_scores()
    {
        var batcher = new ListBatcher(Split(), maxListSize: 3, negativesPerList: 4, batchSize: 2);
        long cells = batcher.Epoch(new Random(5)).Sum(b => (long)b.Mask.Count(m => m));
        // Train items capped at 3 (1 + 2 + 3 + 3 + 3) plus 4 negatives for each of the 5 users.
        Assert.Equal(12 + (5 * 4), batcher.ItemsPerEpoch);
        Assert.Equal(cells, batcher.ItemsPerEpoch);
    }

    [Fact]
    public void Lists_are_bucketed_by_length_so_each_batch_pads_little()
    {
        var batcher = new ListBatcher(Split(), maxListSize: 10, negativesPerList: 0, batchSize: 2);
        var widths = batcher.Epoch(new Random(3)).ToDictionary(b => b.Users.Min(), b => b.Width);
        Assert.Equal(2, widths[0]); // users 0 and 1: lengths 1 and 2
        Assert.Equal(4, widths[2]); // users 2 and 3: lengths 3 and 4
        Assert.Equal(5, widths[4]);
    }

    [Fact]
    public void Negatives_change_from_epoch_to_epoch()
    {
        var batcher = new ListBatcher(Split(), maxListSize: 3, negativesPerList: 5, batchSize: 5);
        var rng = new Random(4);
        long[] first = batcher.Epoch(rng).Single().Items;
        long[] second = batcher.Epoch(rng).Single().Items;
        Assert.NotEqual(first, second);
    }
}
