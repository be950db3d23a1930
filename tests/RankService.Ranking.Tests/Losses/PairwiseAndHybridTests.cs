using RankService.Ranking.Losses;
using RankService.Ranking.Training;
using static RankService.Ranking.Tests.Losses.LossTestHelpers;
using static RankService.Ranking.Tests.Losses.PlackettLuceReference;

namespace RankService.Ranking.Tests.Losses;

public class PairwiseAndHybridTests
{
    [Fact]
    public void Pairwise_logistic_over_all_pairs_equals_the_brute_force_mean()
    {
        var all = new PairwiseLogistic(pairsPerList: null);
        var rng = new Random(2);
        for (int trial = 0; trial < 10; trial++)
        {
            double[] s = RandomScores(rng, 6);
            double[] y = Enumerable.Range(0, 6).Select(_ => (double)rng.Next(0, 3)).ToArray(); // with ties
            Assert.Equal(PairwiseLogistic(s, y), Value(all, [s], [y]), 10);
        }
    }

    [Fact]
    public void Pairwise_logistic_of_two_items_is_the_plackett_luce_pair_probability()
    {
        double[] s = [0.3, 1.4];
        double[] y = [1, 0];
        double p = Probability(s, [0, 1]);
        Assert.Equal(-Math.Log(p), Value(new PairwiseLogistic(null), [s], [y]), 12);
    }

    [Fact]
    public void Pairwise_logistic_gradient_matches_finite_differences()
    {
        var all = new PairwiseLogistic(null);
        double[] s = [0.2, -0.7, 1.3, 0.4, -0.1];
        double[] y = [3, 0, 1, 1, 2];
        (_, double[] autograd) = ValueAndGradient(all, s, y);
        double[] numeric = NumericGradient(x => PairwiseLogistic(x, y), s);
        for (int i = 0; i < s.Length; i++)
        {
            Assert.Equal(numeric[i], autograd[i], 6);
        }
    }

    [Fact]
    public void Sampled_pairs_estimate_the_all_pairs_loss_and_ignore_padding()
    {
        var rng = new Random(9);
        double[] s = RandomScores(rng, 20);
        double[] y = Enumerable.Range(0, 20).Select(_ => (double)rng.Next(0, 5)).ToArray();
        double exact = PairwiseLogistic(s, y);

        double[] padded = [.. s, 40, -40, 40];
        double[] paddedLabels = [.. y, 9, 9, 0];
        bool[] mask = [.. Enumerable.Repeat(true, 20), false, false, false];
        double sampled = Value(new PairwiseLogistic(pairsPerList: 200_000), [padded], [paddedLabels], [mask]);
        Assert.Equal(exact, sampled, 2);
    }

    [Fact]
    public void Pairwise_logistic_is_zero_without_pairs_and_finite_for_extreme_scores()
    {
        var all = new PairwiseLogistic(null);
        Assert.Equal(0, Value(all, [[0.4, -0.2, 9]], [[1, 1, 1]]));
        Assert.Equal(0, Value(all, [[0.4]], [[1]]));
        (double value, double[] grad) = ValueAndGradient(all, [1e4, -1e4, 0], [0, 2, 1]);
        Assert.True(double.IsFinite(value));
        Assert.All(grad, g => Assert.True(double.IsFinite(g)));
    }

    [Fact]
    public void Hybrid_is_the_alpha_weighted_sum_of_its_parts()
    {
        double[] s = [0.5, -1.0, 1.5, 0.0];
        double[] y = [2, 0, 3, 1];
        var hybrid = LossRegistry.Create(LossKind.Hybrid, new TrainingOptions { Alpha = 0.3, PairsPerList = 0 });
        double expected = (0.3 * ListMle(s, y)) + (0.7 * PairwiseLogistic(s, y));
        Assert.Equal(expected, Value(hybrid, [s], [y]), 10);
    }

    [Fact]
    public void Registry_makes_every_loss_kind_and_names_the_known_ones_otherwise()
    {
        Assert.IsType<ListMle>(LossRegistry.Create(LossKind.ListMle));
        Assert.IsType<PairwiseLogistic>(LossRegistry.Create(LossKind.PairwiseLogistic));
        Assert.All(Enum.GetValues<LossKind>(), k => Assert.Equal(k.Wire(), LossRegistry.Create(k).Name));
        var error = Assert.Throws<ArgumentException>(() => LossRegistry.Create((LossKind)99));
        Assert.Contains("listmle", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => LossRegistry.Create(LossKind.Hybrid, new TrainingOptions { Alpha = 1.5 }));
    }
}
