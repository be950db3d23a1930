using RankService.Ranking.Metrics;

namespace RankService.Ranking.Tests.Metrics;

public class RankingMetricsTests
{
    private const double Tolerance = 1e-9;
    private static readonly double Log2Of3 = Math.Log2(3);

    [Fact]
    public void Ndcg_at_3_of_the_classic_3_2_3_0_1_2_list_matches_the_hand_computation()
    {
        // Listed in score order the labels read 3, 2, 3, 0, 1, 2; the input is shuffled to make Ndcg sort.
        double[] scores = [3, 6, 5, 2, 4, 1];
        double[] labels = [0, 3, 2, 1, 3, 2];
        // DCG@3  = (2^3-1)/log2 2 + (2^2-1)/log2 3 + (2^3-1)/log2 4 = 7 + 3/1.58496 + 3.5 = 12.392789
        // IDCG@3 over 3, 3, 2                     = 7 + 7/1.58496 + 1.5             = 12.916508
        double expected = (7 + 3 / Log2Of3 + 3.5) / (7 + 7 / Log2Of3 + 1.5);
        Assert.Equal(0.9594535, expected, 1e-7);
        Assert.Equal(expected, RankingMetrics.Ndcg(scores, labels, 3), Tolerance);
    }

    [Fact]
    public void Ndcg_over_the_whole_classic_list_matches_the_hand_computation()
    {
        double[] scores = [6, 5, 4, 3, 2, 1];
        double[] labels = [3, 2, 3, 0, 1, 2];
        // DCG@6  = 12.392789 + 0/log2 5 + 1/log2 6 + 3/log2 7 = 12.392789 + 0.386853 + 1.068622 = 13.848264
        // IDCG@6 over 3, 3, 2, 2, 1, 0 = 12.916508 + 3/log2 5 + 1/log2 6 = 12.916508 + 1.292030 + 0.386853 = 14.595391
        double dcg = 7 + 3 / Log2Of3 + 3.5 + 1 / Math.Log2(6) + 3 / Math.Log2(7);
        double idcg = 7 + 7 / Log2Of3 + 1.5 + 3 / Math.Log2(5) + 1 / Math.Log2(6);
        Assert.Equal(0.9488107, dcg / idcg, 1e-7);
        Assert.Equal(dcg / idcg, RankingMetrics.Ndcg(scores, labels, 6), Tolerance);
        Assert.Equal(dcg / idcg, RankingMetrics.Ndcg(scores, labels, 100), Tolerance); // k past the end = whole list
    }

    [Fact]
    public void Ndcg_breaks_score_ties_pessimistically_with_low_labels_first()
    {
        double[] scores = [1, 1, 1, 1, 1, 1];
        double[] labels = [3, 2, 3, 0, 1, 2];
        // All tied, so the order is 0, 1, 2, 2, 3, 3: DCG@3 = 0 + 1/log2 3 + 3/2 = 2.130930, IDCG@3 = 12.916508.
        double expected = (1 / Log2Of3 + 1.5) / (7 + 7 / Log2Of3 + 1.5);
        Assert.Equal(0.1649772, expected, 1e-7);
        Assert.Equal(expected, RankingMetrics.Ndcg(scores, labels, 3), Tolerance);
    }

    [Fact]
    public void Ndcg_ranks_nan_scores_below_every_number()
    {
        // Order: item 1 (score 1), item 2 (-inf), item 0 (NaN). The relevant item 0 sits at rank 3: 1/log2 4 = 0.5.
        double[] scores = [double.NaN, 1, double.NegativeInfinity];
        double[] labels = [1, 0, 0];
        Assert.Equal(0.5, RankingMetrics.Ndcg(scores, labels, 3), Tolerance);
    }

    [Fact]
    public void Ndcg_is_zero_when_no_label_is_positive()
    {
        Assert.Equal(0, RankingMetrics.Ndcg([3, 2, 1], [0, 0, 0], 2));
        Assert.Equal(0, RankingMetrics.Ndcg([], [], 5));
    }

    [Fact]
    public void Ndcg_rejects_negative_labels_mismatched_lengths_and_k_below_one()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.Ndcg([1, 2], [1, -1], 2));
        Assert.Throws<ArgumentException>(() => RankingMetrics.Ndcg([1, 2], [1], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => RankingMetrics.Ndcg([1, 2], [1, 0], 0));
    }

    [Fact]
    public void Ndcg_is_one_for_the_ideal_order_and_within_zero_and_one_otherwise()
    {
        var random = new Random(20240601);
        for (int trial = 0; trial < 500; trial++)
        {
            int n = random.Next(1, 30);
            int k = random.Next(1, 35);
            double[] labels = RandomLabels(random, n);
            double[] scores = Enumerable.Range(0, n).Select(_ => (double)random.Next(0, 5)).ToArray(); // many ties

            double ndcg = RankingMetrics.Ndcg(scores, labels, k);
            Assert.InRange(ndcg, 0, 1 + 1e-12);

            if (labels.Any(l => l > 0))
            {
                Assert.Equal(1, RankingMetrics.Ndcg(labels, labels, k), 1e-12); // scoring by the label is ideal
            }
        }
    }

    [Fact]
    public void Ndcg_of_a_tie_free_list_does_not_depend_on_the_input_order()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(1, 20);
            double[] labels = RandomLabels(random, n);
            double[] scores = Enumerable.Range(0, n).Select(i => (double)i).OrderBy(_ => random.Next()).ToArray();
            int[] permutation = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToArray();
            double[] shuffledScores = permutation.Select(i => scores[i]).ToArray();
            double[] shuffledLabels = permutation.Select(i => labels[i]).ToArray();
            int k = random.Next(1, n + 2);
            Assert.Equal(RankingMetrics.Ndcg(scores, labels, k), RankingMetrics.Ndcg(shuffledScores, shuffledLabels, k), 1e-12);
        }
    }

    [Fact]
    public void Binary_ndcg_of_two_relevant_items_at_ranks_1_and_3_matches_the_hand_computation()
    {
        // DCG@5 = 1/log2 2 + 1/log2 4 = 1.5; IDCG@5 over min(2, 5) = 2 slots = 1 + 1/log2 3 = 1.630930.
        Assert.Equal(1.5 / (1 + 1 / Log2Of3), RankingMetrics.BinaryNdcg([3, 1], 5), Tolerance);
        Assert.Equal(0.9197208, RankingMetrics.BinaryNdcg([3, 1], 5), 1e-7);
        // At k = 2 only rank 1 counts: 1 / 1.630930 = 0.613147.
        Assert.Equal(1 / (1 + 1 / Log2Of3), RankingMetrics.BinaryNdcg([1, 3], 2), Tolerance);
        // One relevant item: 1 / log2(rank + 1) inside the cut-off, 0 outside.
        Assert.Equal(1 / Math.Log2(5), RankingMetrics.BinaryNdcg([4], 10), Tolerance);
        Assert.Equal(0, RankingMetrics.BinaryNdcg([11], 10));
    }

    [Fact]
    public void Binary_ndcg_agrees_with_graded_ndcg_on_zero_one_labels()
    {
        var random = new Random(99);
        for (int trial = 0; trial < 300; trial++)
        {
            int n = random.Next(1, 25);
            double[] labels = Enumerable.Range(0, n).Select(_ => (double)random.Next(0, 2)).ToArray();
            double[] scores = Enumerable.Range(0, n).Select(_ => (double)random.Next(0, 6)).ToArray();
            int k = random.Next(1, n + 3);
            // Ranks of the relevant items in Ndcg's own order: score descending, then label ascending.
            int[] order = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => labels[i]).ToArray();
            int[] ranks = Enumerable.Range(0, n).Where(r => labels[order[r]] == 1).Select(r => r + 1).ToArray();
            Assert.Equal(RankingMetrics.Ndcg(scores, labels, k), RankingMetrics.BinaryNdcg(ranks, k), 1e-12);
        }
    }

    [Fact]
    public void Hit_rate_recall_and_precision_count_relevant_items_inside_the_cut_off()
    {
        int[] ranks = [8, 1, 3];
        Assert.Equal(1, RankingMetrics.HitRate(ranks, 5));
        Assert.Equal(0, RankingMetrics.HitRate([6], 5));
        Assert.Equal(2.0 / 3, RankingMetrics.Recall(ranks, 5), Tolerance); // 2 of 3 relevant within 5
        Assert.Equal(2.0 / 5, RankingMetrics.Precision(ranks, 5), Tolerance); // 2 hits over 5 slots
        Assert.Equal(1, RankingMetrics.Recall(ranks, 8));
    }

    [Fact]
    public void Reciprocal_rank_uses_the_first_relevant_item_and_drops_it_beyond_the_cut_off()
    {
        Assert.Equal(1.0 / 3, RankingMetrics.ReciprocalRank([7, 3]), Tolerance);
        Assert.Equal(1.0 / 3, RankingMetrics.ReciprocalRank([7, 3], 3), Tolerance);
        Assert.Equal(0, RankingMetrics.ReciprocalRank([7, 3], 2));
        Assert.Equal(1.0 / 500, RankingMetrics.ReciprocalRank([500]), Tolerance); // no cut-off
    }

    [Fact]
    public void Average_precision_sums_precision_at_each_hit_over_min_of_relevant_and_k()
    {
        // Hits at 1 and 3: (1/1 + 2/3) / min(2, 5) = 0.833333.
        Assert.Equal((1 + 2.0 / 3) / 2, RankingMetrics.AveragePrecision([3, 1], 5), Tolerance);
        // At k = 2 only the hit at 1 counts, still over min(2, 2) = 2 relevant: 0.5.
        Assert.Equal(0.5, RankingMetrics.AveragePrecision([1, 3], 2), Tolerance);
        // Hits at 2, 5, 6 with k = 5: (1/2 + 2/5) / min(3, 5) = 0.3.
        Assert.Equal(0.3, RankingMetrics.AveragePrecision([2, 5, 6], 5), Tolerance);
        // More relevant items than slots, all on top: the min lets it reach 1.
        Assert.Equal(1, RankingMetrics.AveragePrecision([1, 2, 3, 4], 2), Tolerance);
    }

    [Fact]
    public void Rank_metrics_are_zero_without_relevant_items()
    {
        Assert.Equal(0, RankingMetrics.HitRate([], 5));
        Assert.Equal(0, RankingMetrics.Recall([], 5));
        Assert.Equal(0, RankingMetrics.Precision([], 5));
        Assert.Equal(0, RankingMetrics.BinaryNdcg([], 5));
        Assert.Equal(0, RankingMetrics.ReciprocalRank([]));
        Assert.Equal(0, RankingMetrics.ReciprocalRank([], 5));
        Assert.Equal(0, RankingMetrics.AveragePrecision([], 5));
    }

    private static double[] RandomLabels(Random random, int n) =>
        Enumerable.Range(0, n).Select(_ => (double)random.Next(0, 5)).ToArray();
}
