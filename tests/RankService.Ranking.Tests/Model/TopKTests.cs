using RankService.Ranking.Model;

namespace RankService.Ranking.Tests.Model;

public class TopKTests
{
    [Fact]
    public void TopK_equals_a_full_sort_without_the_excluded_items_ties_by_lower_index()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 300; trial++)
        {
            int n = rng.Next(1, 60);
            // Few distinct values, so ties are common.
            float[] scores = Enumerable.Range(0, n).Select(_ => (float)rng.Next(0, 6)).ToArray();
            int[] excluded = Enumerable.Range(0, n).Where(_ => rng.NextDouble() < 0.3).ToArray();
            int k = rng.Next(0, n + 3);
            int[] expected = Enumerable.Range(0, n).Except(excluded)
                .OrderByDescending(i => scores[i]).ThenBy(i => i).Take(k).ToArray();

            var result = new int[k];
            int count = TopK.Select(scores, excluded, k, result);
            Assert.Equal(expected, result[..count]);
        }
    }

    [Fact]
    public void TopK_over_an_allowed_bitset_equals_TopK_with_every_cleared_bit_excluded()
    {
        var rng = new Random(8);
        for (int trial = 0; trial < 300; trial++)
        {
            int n = rng.Next(1, 200);
            float[] scores = Enumerable.Range(0, n).Select(_ => rng.NextDouble() < 0.05 ? float.NaN : rng.Next(0, 6)).ToArray();
            // Bits past n are set on purpose: they must be ignored.
            ulong[] allowed = Enumerable.Range(0, (n + 63) / 64 + 1).Select(_ => (ulong)rng.NextInt64() | (1UL << 63)).ToArray();
            int[] excluded = Enumerable.Range(0, n).Where(i => (allowed[i / 64] & (1UL << i)) == 0).ToArray();
            int k = rng.Next(0, n + 3);

            var expected = new int[k];
            int expectedCount = TopK.Select(scores, excluded, k, expected);
            var result = new int[k];
            int count = TopK.SelectAllowed(scores, allowed, k, result);
            Assert.Equal(expected[..expectedCount], result[..count]);
        }
    }

    [Fact]
    public void TopK_puts_nan_scores_below_every_number()
    {
        float nan = float.NaN;
        var result = new int[3];
        int count = TopK.Select([nan, 1, nan, 3, 2], [], 3, result);
        Assert.Equal(3, count);
        Assert.Equal([3, 4, 1], result);
    }
}
