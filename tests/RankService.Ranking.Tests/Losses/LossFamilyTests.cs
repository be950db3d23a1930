using RankService.Ranking.Losses;
using TorchSharp;
using static RankService.Ranking.Tests.Losses.FamilyReference;
using static RankService.Ranking.Tests.Losses.LossTestHelpers;
using static RankService.Ranking.Tests.Losses.PlackettLuceReference;

namespace RankService.Ranking.Tests.Losses;

/// <summary>
/// The list-score losses of the family against their float64 references, their gradients against finite
/// differences, and the invariances and edge cases every loss must meet.
/// </summary>
public class LossFamilyTests
{
    private sealed record Case(IRankingLoss Loss, Func<double[], double[], double> Reference);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["listnet"] = new(new ListNet(), ListNetReference),
        ["approx-ndcg"] = new(new ApproxNdcg(1.0), (s, y) => ApproxNdcgReference(s, y, 1.0)),
        ["approx-ndcg T=0.1"] = new(new ApproxNdcg(0.1), (s, y) => ApproxNdcgReference(s, y, 0.1)),
        ["lambda-loss"] = new(new LambdaLoss(), (s, y) => LambdaLossReference(s, y, plusPlus: true, mu: 10)),
        ["lambda-loss lambdarank"] = new(new LambdaLoss(LambdaWeighting.LambdaRank), (s, y) => LambdaLossReference(s, y, plusPlus: false, mu: 0)),
        ["lambda-loss k=3"] = new(new LambdaLoss(mu: 5, k: 3), (s, y) => LambdaLossReference(s, y, plusPlus: true, mu: 5, k: 3)),
        ["pairwise-hinge"] = new(new PairwiseHinge(1.0, pairsPerList: null), (s, y) => PairwiseHingeReference(s, y, 1.0)),
        ["pairwise-hinge margin 0.3"] = new(new PairwiseHinge(0.3, pairsPerList: null), (s, y) => PairwiseHingeReference(s, y, 0.3)),
        ["softmax (list form)"] = new(new SoftmaxLoss(), (s, y) => SoftmaxReference(s, y, s)),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    private static double[] GradedLabels(Random rng, int n)
    {
        // Grades 0..3 with ties; at least one relevant item so every loss has something to rank.
        double[] y = Enumerable.Range(0, n).Select(_ => (double)rng.Next(0, 4)).ToArray();
        y[rng.Next(n)] = 3;
        return y;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_loss_equals_its_float64_reference_on_small_lists(string name)
    {
        Case c = Cases[name];
        var rng = new Random(name.Length);
        for (int n = 1; n <= 6; n++)
        {
            for (int trial = 0; trial < 8; trial++)
            {
                double[] s = RandomScores(rng, n);
                double[] y = GradedLabels(rng, n);
                Assert.Equal(c.Reference(s, y), Value(c.Loss, [s], [y]), 10);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_loss_averages_its_lists_in_a_batch(string name)
    {
        Case c = Cases[name];
        var rng = new Random(17);
        double[][] s = [RandomScores(rng, 5), RandomScores(rng, 5), RandomScores(rng, 5)];
        double[][] y = [[3, 0, 1, 0, 2], [0, 2, 2, 1, 0], [1, 0, 0, 0, 3]];
        Assert.Equal(Enumerable.Range(0, 3).Average(i => c.Reference(s[i], y[i])), Value(c.Loss, s, y), 10);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_loss_gradient_matches_finite_differences_of_its_reference(string name)
    {
        Case c = Cases[name];
        var rng = new Random(23);
        for (int trial = 0; trial < 4; trial++)
        {
            double[] s = RandomScores(rng, 6);
            double[] y = GradedLabels(rng, 6);
            (_, double[] autograd) = ValueAndGradient(c.Loss, s, y);
            double[] numeric = NumericGradient(x => c.Reference(x, y), s);
            for (int i = 0; i < s.Length; i++)
            {
                Assert.Equal(numeric[i], autograd[i], 5);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_loss_ignores_padding_of_any_width_wherever_it_sits(string name)
    {
        Case c = Cases[name];
        var rng = new Random(31);
        double[] s = RandomScores(rng, 4);
        double[] y = [2, 0, 3, 1];
        double plain = Value(c.Loss, [s], [y]);

        // Padding interleaved, with scores and labels that would dominate if they leaked in.
        double[] paddedScores = [s[0], 50, s[1], s[2], -50, s[3], 9];
        double[] paddedLabels = [y[0], 99, y[1], y[2], 4, y[3], 7];
        bool[] mask = [true, false, true, true, false, true, false];
        Assert.Equal(plain, Value(c.Loss, [paddedScores], [paddedLabels], [mask]), 10);

        // A wider batch: the same list next to a longer one, padded to the longer width.
        double[] other = RandomScores(rng, 9);
        double[] otherLabels = [1, 0, 0, 2, 0, 3, 0, 1, 0];
        double together = Value(c.Loss, [[.. s, 0, 0, 0, 0, 0], other], [[.. y, 5, 5, 5, 5, 5], otherLabels],
            [[true, true, true, true, false, false, false, false, false], Enumerable.Repeat(true, 9).ToArray()]);
        Assert.Equal((plain + Value(c.Loss, [other], [otherLabels])) / 2, together, 10);
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_loss_does_not_change_when_the_list_is_permuted(string name)
    {
        Case c = Cases[name];
        var rng = new Random(41);
        for (int trial = 0; trial < 5; trial++)
        {
            double[] s = RandomScores(rng, 7);
            double[] y = GradedLabels(rng, 7);
            int[] perm = Enumerable.Range(0, 7).ToArray();
            rng.Shuffle(perm);
            Assert.Equal(Value(c.Loss, [s], [y]), Value(c.Loss, [perm.Select(i => s[i]).ToArray()], [perm.Select(i => y[i]).ToArray()]), 10);
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_loss_stays_finite_for_extreme_scores_equal_labels_one_item_and_no_relevant_item(string name)
    {
        IRankingLoss loss = Cases[name].Loss;
        (double[] Scores, double[] Labels)[] edges =
        [
            ([1e4, -1e4, 0, 1e4], [0, 3, 1, 2]),
            ([-1e4, -1e4, 1e4], [2, 0, 0]),
            ([0.5, 0.1, -0.3], [2, 2, 2]),
            ([3.7], [4]),
            ([0.3, -2, 1e4], [0, 0, 0]),
        ];
        foreach ((double[] s, double[] y) in edges)
        {
            (double value, double[] grad) = ValueAndGradient(loss, s, y);
            Assert.True(double.IsFinite(value), $"{name}: loss {value} for scores [{string.Join(", ", s)}]");
            Assert.All(grad, g => Assert.True(double.IsFinite(g), $"{name}: gradient {g}"));
        }

        // float32, as in training, with padding that holds extreme values.
        using var scope = torch.NewDisposeScope();
        var scores = torch.tensor(new float[] { 1e4f, -1e4f, 0, 5, -1e4f }, new long[] { 1, 5 }).requires_grad_(true);
        var labels = torch.tensor(new float[] { 1, 2, 0, 9, 0 }, new long[] { 1, 5 });
        var mask = torch.tensor(new[] { true, true, true, false, false }, new long[] { 1, 5 });
        var total = loss.Compute(scores, labels, mask).Total;
        total.backward();
        Assert.True(float.IsFinite(total.item<float>()));
        float[] gradient = scores.grad!.data<float>().ToArray();
        Assert.All(gradient, g => Assert.True(float.IsFinite(g)));
        Assert.Equal(0, gradient[3]); // padding gets no gradient
        Assert.Equal(0, gradient[4]);
    }

    [Fact]
    public void A_single_item_or_equal_labels_give_the_documented_values()
    {
        // One item: nothing to rank. ListNet and softmax put all probability on it; the pairwise ones have no pair;
        // ApproxNDCG ranks it first exactly.
        foreach (Case c in Cases.Values)
        {
            Assert.Equal(0, Value(c.Loss, [[3.7]], [[4]]), 12);
        }
        // Equal labels: no pairs, so the pairwise losses give 0; ListNet's target is uniform.
        double[] s = [0.5, 0.1, -0.3];
        Assert.Equal(0, Value(Cases["pairwise-hinge"].Loss, [s], [[2, 2, 2]]));
        Assert.Equal(0, Value(Cases["lambda-loss"].Loss, [s], [[2, 2, 2]]));
        Assert.Equal(-s.Average(x => Math.Log(Math.Exp(x) / s.Sum(Math.Exp))), Value(Cases["listnet"].Loss, [s], [[2, 2, 2]]), 12);
    }

    [Fact]
    public void Approx_ndcg_approaches_one_minus_true_ndcg_as_the_temperature_falls()
    {
        double[] s = [2.0, 0.5, -1.0, 1.2];
        double[] y = [0, 3, 1, 2];
        // True ranks from the scores: 1, 3, 4, 2.
        double dcg = (Math.Pow(2, 0) - 1) / Math.Log2(2) + (Math.Pow(2, 3) - 1) / Math.Log2(4) + (Math.Pow(2, 1) - 1) / Math.Log2(5) + (Math.Pow(2, 2) - 1) / Math.Log2(3);
        double ndcg = dcg / IdealDcg(y);
        Assert.Equal(1 - ndcg, Value(new ApproxNdcg(0.001), [s], [y]), 6);
        Assert.Equal(0, Value(new ApproxNdcg(0.001), [[3, 2, 1, 0]], [[3, 2, 1, 0]]), 6);
    }

    [Fact]
    public void Lambda_loss_weights_are_delta_ndcg_and_truncation_drops_pairs_below_k()
    {
        // Two items, wrongly ordered: the LambdaRank weight is |delta NDCG| of swapping them.
        double[] s = [0.0, 1.0];
        double[] y = [1, 0];
        double deltaNdcg = 1 - (1 / Math.Log2(3)); // NDCG of the wrong order is 1/log2(3); the right one is 1.
        Assert.Equal(deltaNdcg * Math.Log(1 + Math.E), Value(new LambdaLoss(LambdaWeighting.LambdaRank), [s], [y]), 12);

        // With k = 1 (predicted order 0, 1, 2; ideal DCG@1 = 3): pair (0, 1) weighs |3 - 0| / 3 * |1 - 0|, pair (0, 2)
        // |3 - 1| / 3 * |1 - 0|, and pair (2, 1), predicted at positions 3 and 2, drops out.
        double[] s3 = [3.0, 2.0, 1.0];
        double[] y3 = [2, 0, 1];
        double byHand = Math.Log(1 + Math.Exp(-1)) + (2.0 / 3 * Math.Log(1 + Math.Exp(-2)));
        Assert.Equal(byHand, Value(new LambdaLoss(LambdaWeighting.LambdaRank, k: 1), [s3], [y3]), 12);
        Assert.Equal(byHand, LambdaLossReference(s3, y3, plusPlus: false, mu: 0, k: 1), 12);
    }

    [Fact]
    public void Sampled_pair_hinge_estimates_the_all_pairs_hinge()
    {
        var rng = new Random(9);
        double[] s = RandomScores(rng, 20);
        double[] y = Enumerable.Range(0, 20).Select(_ => (double)rng.Next(0, 5)).ToArray();
        Assert.Equal(PairwiseHingeReference(s, y, 1.0), Value(new PairwiseHinge(1.0, pairsPerList: 200_000), [s], [y]), 2);
    }
}
