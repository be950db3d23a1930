using RankService.Ranking.Losses;
using static RankService.Ranking.Tests.Losses.LossTestHelpers;
using static RankService.Ranking.Tests.Losses.PlackettLuceReference;

namespace RankService.Ranking.Tests.Losses;

public class ListMleTests
{
    private readonly ListMle _loss = new();

    [Fact]
    public void Plackett_luce_probabilities_enumerated_by_hand_sum_to_one()
    {
        double[] s = [0.3, -1.2, 2.0, 0.7];
        double total = Permutations(4).Sum(p => Probability(s, p));
        Assert.Equal(24, Permutations(4).Count());
        Assert.Equal(1.0, total, 12);
    }

    [Fact]
    public void ListMle_equals_enumerated_plackett_luce_likelihood_on_a_worked_example()
    {
        // Order by label: item 2 (label 3), item 0 (2), item 3 (1), item 1 (0).
        double[] s = [0.5, -1.0, 1.5, 0.0];
        double[] y = [2, 0, 3, 1];
        double e05 = Math.Exp(0.5), em1 = Math.Exp(-1.0), e15 = Math.Exp(1.5), e0 = 1.0;
        double byHand = -Math.Log(e15 / (e15 + e05 + e0 + em1) * (e05 / (e05 + e0 + em1)) * (e0 / (e0 + em1)) * (em1 / em1));
        Assert.Equal(byHand, Value(_loss, [s], [y]), 12);
        Assert.Equal(byHand, ListMle(s, y), 12);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(6)]
    public void ListMle_equals_negative_log_plackett_luce_of_the_label_order(int n)
    {
        var rng = new Random(n);
        for (int trial = 0; trial < 10; trial++)
        {
            double[] s = RandomScores(rng, n);
            double[] y = TieFreeLabels(rng, n);
            Assert.Equal(ListMle(s, y), Value(_loss, [s], [y]), 10);
        }
    }

    [Fact]
    public void ListMle_averages_over_lists_in_a_batch()
    {
        var rng = new Random(7);
        double[][] s = [RandomScores(rng, 4), RandomScores(rng, 4), RandomScores(rng, 4)];
        double[][] y = [TieFreeLabels(rng, 4), TieFreeLabels(rng, 4), TieFreeLabels(rng, 4)];
        double expected = Enumerable.Range(0, 3).Average(i => ListMle(s[i], y[i]));
        Assert.Equal(expected, Value(_loss, s, y), 10);
    }

    [Fact]
    public void ListMle_gradient_matches_finite_differences()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 5; trial++)
        {
            double[] s = RandomScores(rng, 5);
            double[] y = TieFreeLabels(rng, 5);
            (_, double[] autograd) = ValueAndGradient(_loss, s, y);
            double[] numeric = NumericGradient(x => ListMle(x, y), s);
            for (int i = 0; i < s.Length; i++)
            {
                Assert.Equal(numeric[i], autograd[i], 6);
            }
        }
    }

    [Fact]
    public void ListMle_ignores_padding_wherever_it_sits()
    {
        var rng = new Random(3);
        double[] s = RandomScores(rng, 4);
        double[] y = TieFreeLabels(rng, 4);
        double plain = Value(_loss, [s], [y]);

        // Padding interleaved, with large scores and labels that would dominate if they leaked in.
        double[] paddedScores = [s[0], 50, s[1], s[2], -50, s[3], 9];
        double[] paddedLabels = [y[0], 99, y[1], y[2], 42, y[3], 7];
        bool[] mask = [true, false, true, true, false, true, false];
        Assert.Equal(plain, Value(_loss, [paddedScores], [paddedLabels], [mask]), 10);
    }

    [Fact]
    public void ListMle_does_not_change_when_a_tie_free_list_is_permuted()
    {
        var rng = new Random(5);
        double[] s = RandomScores(rng, 6);
        double[] y = TieFreeLabels(rng, 6);
        int[] perm = Enumerable.Range(0, 6).ToArray();
        rng.Shuffle(perm);
        Assert.Equal(Value(_loss, [s], [y]), Value(_loss, [perm.Select(i => s[i]).ToArray()], [perm.Select(i => y[i]).ToArray()]), 10);
    }

    [Fact]
    public void ListMle_with_ties_equals_the_likelihood_of_one_tie_consistent_order()
    {
        double[] s = [0.2, 1.1, -0.4, 0.9];
        double[] y = [1, 0, 1, 0];
        // Orders consistent with the labels: {0,2} in either order, then {1,3} in either order.
        double[] candidates = Permutations(4)
            .Where(p => y[p[0]] == 1 && y[p[1]] == 1)
            .Select(p => -Math.Log(Probability(s, p)))
            .ToArray();
        Assert.Equal(4, candidates.Length);
        var seen = new HashSet<int>();
        for (int seed = 0; seed < 40; seed++)
        {
            double value = Value(_loss, [s], [y], seed: seed);
            int match = Array.FindIndex(candidates, c => Math.Abs(c - value) < 1e-9);
            Assert.True(match >= 0, $"loss {value} is not the likelihood of any tie-consistent order");
            seen.Add(match);
        }
        Assert.Equal(4, seen.Count); // ties are shuffled, not fixed
    }

    [Fact]
    public void ListMle_stays_finite_for_extreme_scores_equal_labels_and_single_items()
    {
        (double extreme, double[] grad) = ValueAndGradient(_loss, [1e4, -1e4, 0, 1e4], [0, 3, 1, 2]);
        Assert.True(double.IsFinite(extreme));
        Assert.All(grad, g => Assert.True(double.IsFinite(g)));
        Assert.True(extreme > 1e4); // the label order puts a -1e4 item first: a huge but finite loss

        (double equal, double[] equalGrad) = ValueAndGradient(_loss, [0.5, 0.1, -0.3], [2, 2, 2]);
        Assert.True(double.IsFinite(equal));
        Assert.All(equalGrad, g => Assert.True(double.IsFinite(g)));

        (double single, double[] singleGrad) = ValueAndGradient(_loss, [3.7], [4]);
        Assert.Equal(0, single, 12); // one item: P = 1
        Assert.Equal(0, singleGrad[0], 12);
    }

    [Fact]
    public void ListMle_float32_with_padding_and_extreme_scores_has_no_nan_gradient()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var s = TorchSharp.torch.tensor(new float[] { 1e4f, -1e4f, 0, 5 }, new long[] { 1, 4 }).requires_grad_(true);
        var y = TorchSharp.torch.tensor(new float[] { 1, 2, 0, 9 }, new long[] { 1, 4 });
        var m = TorchSharp.torch.tensor(new[] { true, true, true, false }, new long[] { 1, 4 });
        var total = _loss.Compute(s, y, m).Total;
        total.backward();
        Assert.True(float.IsFinite(total.item<float>()));
        Assert.All(s.grad!.data<float>().ToArray(), g => Assert.True(float.IsFinite(g)));
        Assert.Equal(0, s.grad!.data<float>()[3]); // padding gets no gradient
    }
}
