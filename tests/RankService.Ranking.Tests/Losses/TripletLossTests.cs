using RankService.Ranking.Losses;
using RankService.Ranking.Training;
using TorchSharp;
using static RankService.Ranking.Tests.Losses.FamilyReference;
using static RankService.Ranking.Tests.Losses.PlackettLuceReference;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Losses;

/// <summary>The triplet loss on tower embeddings and its three negative-mining rules.</summary>
public class TripletLossTests
{
    private static LossBatch Batch(double[][] users, double[][][] items, double[][] labels, bool[][]? mask = null)
    {
        int rows = users.Length;
        int width = items[0].Length;
        int dim = users[0].Length;
        mask ??= labels.Select(r => r.Select(_ => true).ToArray()).ToArray();
        Tensor y = tensor(labels.SelectMany(r => r).ToArray(), new long[] { rows, width }, dtype: ScalarType.Float64);
        return new LossBatch(zeros(rows, width, dtype: ScalarType.Float64), y, tensor(mask.SelectMany(r => r).ToArray(), new long[] { rows, width }))
        {
            UserVectors = tensor(users.SelectMany(r => r).ToArray(), new long[] { rows, dim }, dtype: ScalarType.Float64),
            ItemVectors = tensor(items.SelectMany(r => r.SelectMany(v => v)).ToArray(), new long[] { rows, width, dim }, dtype: ScalarType.Float64),
        };
    }

    private static double Value(TripletLoss loss, double[][] users, double[][][] items, double[][] labels, bool[][]? mask = null, ulong seed = 1)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed, CPU);
        return loss.Compute(Batch(users, items, labels, mask), generator).Total.item<double>();
    }

    private static double[] Vector(Random rng, int d) => Enumerable.Range(0, d).Select(_ => rng.NextDouble() * 2 - 1).ToArray();

    // Hand-made list with d = 1 and u = [1], so sim = the item's value in the dot form.
    // Positions: 0 (rated 5, sim 2.0), 1 (rated 4, sim 0.5), 2..5 unrated (1.8, 1.2, 3.0, -1.0), 6 rated 2 (2.5: neither).
    private static readonly double[] HandSims = [2.0, 0.5, 1.8, 1.2, 3.0, -1.0, 2.5];
    private static readonly double[] HandLabels = [5, 4, 0, 0, 0, 0, 2];

    private static long[] Mine(TripletMining mining, ulong seed = 1)
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(seed, CPU);
        Tensor sim = tensor(HandSims, new long[] { 1, 7 }, dtype: ScalarType.Float64);
        Tensor negative = tensor(HandLabels.Select(y => y == 0).ToArray(), new long[] { 1, 7 });
        return TripletLoss.MineNegatives(sim, negative, mining, margin: 1.0, generator).data<long>().ToArray();
    }

    [Fact]
    public void Hard_mining_picks_the_highest_scoring_unrated_item_for_every_positive()
    {
        long[] choice = Mine(TripletMining.Hard);
        Assert.Equal(4, choice[0]); // sim 3.0; the rated-2 item at 2.5 is not a negative
        Assert.Equal(4, choice[1]);
    }

    [Fact]
    public void Semi_hard_mining_picks_the_hardest_negative_inside_the_margin_and_falls_back_to_the_easiest()
    {
        long[] choice = Mine(TripletMining.SemiHard);
        Assert.Equal(2, choice[0]); // sim_p 2.0: semi-hard are 1.8 and 1.2 (in (1.0, 2.0)); the hardest is 1.8
        Assert.Equal(5, choice[1]); // sim_p 0.5: none in (-0.5, 0.5); falls back to the easiest negative, -1.0
    }

    [Fact]
    public void Random_mining_picks_only_unrated_items_and_each_of_them_in_time()
    {
        var picked = new HashSet<long>();
        for (ulong seed = 1; seed <= 40; seed++)
        {
            long[] choice = Mine(TripletMining.Random, seed);
            Assert.All(choice, c => Assert.Contains(c, new long[] { 2, 3, 4, 5 }));
            picked.UnionWith(choice);
        }
        Assert.Equal([2, 3, 4, 5], picked.Order());
    }

    [Fact]
    public void The_hand_made_batch_gives_the_hinge_of_the_mined_triplets()
    {
        double[][][] items = [HandSims.Select(x => new[] { x }).ToArray()];
        // semi-hard: p0 with n=1.8: 1 - (2.0 - 1.8) = 0.8; p1 with n=-1.0: max(0, 1 - 1.5) = 0.
        Assert.Equal(0.4, Value(new TripletLoss(1.0, TripletForm.Dot, TripletMining.SemiHard), [[1.0]], items, [HandLabels]), 12);
        // hard: n = 3.0 for both: (1 - (2 - 3) + 1 - (0.5 - 3)) / 2 = (2 + 3.5) / 2.
        Assert.Equal(2.75, Value(new TripletLoss(1.0, TripletForm.Dot, TripletMining.Hard), [[1.0]], items, [HandLabels]), 12);
    }

    [Theory]
    [InlineData(TripletForm.Dot, TripletMining.Hard)]
    [InlineData(TripletForm.Dot, TripletMining.SemiHard)]
    [InlineData(TripletForm.Distance, TripletMining.Hard)]
    [InlineData(TripletForm.Distance, TripletMining.SemiHard)]
    public void Triplet_equals_its_float64_reference_and_its_gradient_matches_finite_differences(TripletForm form, TripletMining mining)
    {
        var rng = new Random(form.Wire().Length + mining.Wire().Length);
        var loss = new TripletLoss(0.7, form, mining, threshold: 4);
        for (int trial = 0; trial < 6; trial++)
        {
            const int n = 6, d = 3;
            double[] u = Vector(rng, d);
            double[][] v = Enumerable.Range(0, n).Select(_ => Vector(rng, d)).ToArray();
            double[] y = [5, 0, 4, 0, 2, 0];
            rng.Shuffle(y);
            bool dot = form == TripletForm.Dot;
            Assert.Equal(TripletReference(u, v, y, dot, mining.Wire(), 0.7, 4), Value(loss, [u], [v], [y]), 10);

            using var scope = NewDisposeScope();
            LossBatch batch = Batch([u], [v], [y]);
            batch.UserVectors!.requires_grad_(true);
            batch.ItemVectors!.requires_grad_(true);
            loss.Compute(batch).Total.backward();
            double[] gradU = batch.UserVectors.grad!.data<double>().ToArray();
            double[] gradV = batch.ItemVectors.grad!.data<double>().ToArray();
            double[] flat = [.. u, .. v.SelectMany(x => x)];
            double Reference(double[] x) => TripletReference(x[..d], Enumerable.Range(0, n).Select(i => x[(d + (i * d))..(d + ((i + 1) * d))]).ToArray(), y, dot, mining.Wire(), 0.7, 4);
            double[] numeric = NumericGradient(Reference, flat);
            double[] autograd = [.. gradU, .. gradV];
            for (int i = 0; i < flat.Length; i++)
            {
                Assert.Equal(numeric[i], autograd[i], 6);
            }
        }
    }

    // Random mining draws by position, so only its distribution is free of padding and order: it is covered by the
    // mining test above.
    [Theory]
    [InlineData(TripletMining.Hard)]
    [InlineData(TripletMining.SemiHard)]
    public void Triplet_ignores_padding_and_list_order(TripletMining mining)
    {
        var rng = new Random(12);
        var loss = new TripletLoss(1.0, TripletForm.Distance, mining);
        double[] u = Vector(rng, 2);
        double[][] v = Enumerable.Range(0, 3).Select(_ => Vector(rng, 2)).ToArray();
        double[] y = [5, 0, 0];
        double plain = Value(loss, [u], [v], [y]);
        // Padding with labels and vectors that would win every mining rule if they leaked in.
        double[][] padded = [[40, 40], v[0], [.. u], v[1], v[2]];
        Assert.Equal(plain, Value(loss, [u], [padded], [[0, 5, 0, 0, 0]], [[false, true, false, true, true]]), 10);
        Assert.Equal(plain, Value(loss, [u], [[v[2], v[0], v[1]]], [[0, 5, 0]]), 10);
    }

    [Fact]
    public void Triplet_stays_finite_at_extremes_and_is_zero_without_a_positive_or_a_negative()
    {
        foreach (TripletMining mining in Enum.GetValues<TripletMining>())
        {
            foreach (TripletForm form in Enum.GetValues<TripletForm>())
            {
                var loss = new TripletLoss(1.0, form, mining);
                double extreme = Value(loss, [[100, -100]], [[[100, 100], [-100, -100], [100, -100]]], [[5, 0, 0]]);
                Assert.True(double.IsFinite(extreme));
                Assert.Equal(0, Value(loss, [[1, 0]], [[[1, 0], [0, 1]]], [[2, 0]]));      // no item at or above 4
                Assert.Equal(0, Value(loss, [[1, 0]], [[[1, 0], [0, 1]]], [[5, 4]]));      // no unrated item
                Assert.Equal(0, Value(loss, [[1, 0]], [[[1, 0]]], [[5]]));                 // a single item
                Assert.Equal(0, Value(loss, [[1, 0]], [[[1, 0], [0, 1]]], [[4, 4]]));      // all-equal labels
            }
        }
        using var scope = NewDisposeScope();
        Assert.Throws<InvalidOperationException>(() => new TripletLoss().Compute(zeros(1, 2), zeros(1, 2), ones(1, 2, dtype: ScalarType.Bool)));
    }
}
