using RankService.Ranking.Losses;
using RankService.Ranking.Training;
using TorchSharp;
using static RankService.Ranking.Tests.Losses.FamilyReference;
using static RankService.Ranking.Tests.Losses.LossTestHelpers;
using static RankService.Ranking.Tests.Losses.PlackettLuceReference;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Losses;

/// <summary>The softmax loss against the whole catalogue (full) and against log-q corrected samples.</summary>
public class SoftmaxLossTests
{
    /// <summary>A batch whose list scores are columns of a fixed catalogue score matrix [lists, items].</summary>
    private static LossBatch CatalogueBatch(Tensor catalogue, long[][] items, double[][] labels, bool[][]? mask = null, float[]? counts = null)
    {
        int rows = items.Length;
        int width = items[0].Length;
        mask ??= items.Select(r => r.Select(_ => true).ToArray()).ToArray();
        Tensor itemsT = tensor(items.SelectMany(r => r).ToArray(), new long[] { rows, width });
        return new LossBatch(
            catalogue.gather(1, itemsT),
            tensor(labels.SelectMany(r => r).ToArray(), new long[] { rows, width }, dtype: ScalarType.Float64),
            tensor(mask.SelectMany(r => r).ToArray(), new long[] { rows, width }))
        {
            Items = itemsT,
            ScoreItems = c => c is null ? catalogue : catalogue.index_select(1, c),
            ItemCounts = counts is null ? null : tensor(counts),
        };
    }

    private static double[][] RandomCatalogue(Random rng, int rows, int items, double scale = 2) =>
        Enumerable.Range(0, rows).Select(_ => RandomScores(rng, items, scale)).ToArray();

    private static Tensor AsTensor(double[][] rows) =>
        tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length }, dtype: ScalarType.Float64);

    private static double FullReference(double[][] catalogue, long[][] items, double[][] labels, bool sum = false) =>
        Enumerable.Range(0, items.Length).Average(b =>
            SoftmaxReference(items[b].Select(i => catalogue[b][i]).ToArray(), labels[b], catalogue[b], sum));

    [Fact]
    public void Full_softmax_equals_the_float64_cross_entropy_against_the_whole_catalogue()
    {
        var rng = new Random(1);
        double[][] catalogue = RandomCatalogue(rng, 2, 9);
        long[][] items = [[3, 0, 7, 5], [8, 2, 4, 1]];
        double[][] labels = [[5, 0, 3, 0], [0, 4, 1, 0]];
        using var scope = NewDisposeScope();
        double value = new SoftmaxLoss().Compute(CatalogueBatch(AsTensor(catalogue), items, labels)).Total.item<double>();
        Assert.Equal(FullReference(catalogue, items, labels), value, 10);
        // The registry's softmax is the same full-catalogue loss and asks the trainer for the catalogue.
        Assert.Equal(LossNeeds.Catalogue, LossRegistry.Create(LossKind.Softmax).Needs);
    }

    [Fact]
    public void Full_softmax_gradient_over_the_catalogue_matches_finite_differences()
    {
        var rng = new Random(2);
        double[][] catalogue = RandomCatalogue(rng, 2, 6);
        long[][] items = [[1, 4, 0], [5, 2, 3]];
        double[][] labels = [[2, 0, 5], [1, 0, 0]];
        using var scope = NewDisposeScope();
        Tensor c = AsTensor(catalogue).requires_grad_(true);
        new SoftmaxLoss().Compute(CatalogueBatch(c, items, labels)).Total.backward();
        double[] autograd = c.grad!.data<double>().ToArray();
        double[] flat = catalogue.SelectMany(r => r).ToArray();
        double[] numeric = NumericGradient(x => FullReference([x[..6], x[6..]], items, labels), flat);
        for (int i = 0; i < flat.Length; i++)
        {
            Assert.Equal(numeric[i], autograd[i], 6);
        }
    }

    [Fact]
    public void Full_softmax_ignores_list_padding_and_order_and_stays_finite_at_extremes()
    {
        var rng = new Random(3);
        double[][] catalogue = RandomCatalogue(rng, 1, 8);
        using var scope = NewDisposeScope();
        var loss = new SoftmaxLoss();
        double plain = loss.Compute(CatalogueBatch(AsTensor(catalogue), [[2, 5, 6]], [[3, 0, 1]])).Total.item<double>();
        double padded = loss.Compute(CatalogueBatch(AsTensor(catalogue), [[7, 2, 0, 5, 6, 1]], [[9, 3, 9, 0, 1, 9]],
            [[false, true, false, true, true, false]])).Total.item<double>();
        double permuted = loss.Compute(CatalogueBatch(AsTensor(catalogue), [[6, 2, 5]], [[1, 3, 0]])).Total.item<double>();
        Assert.Equal(plain, padded, 10);
        Assert.Equal(plain, permuted, 10);

        Tensor extreme = tensor(new[] { 1e4, -1e4, 0, 1e4, -1e4 }, new long[] { 1, 5 }, dtype: ScalarType.Float64).requires_grad_(true);
        foreach (double[] y in new double[][] { [0, 3, 1], [2, 2, 2], [0, 0, 0] })
        {
            Tensor total = loss.Compute(CatalogueBatch(extreme, [[1, 2, 3]], [y])).Total;
            total.backward();
            Assert.True(double.IsFinite(total.item<double>()));
            Assert.All(extreme.grad!.data<double>().ToArray(), g => Assert.True(double.IsFinite(g)));
        }
        Tensor single = loss.Compute(CatalogueBatch(AsTensor([[0.3]]), [[0]], [[4]])).Total;
        Assert.Equal(0, single.item<double>(), 12); // a one-item catalogue: probability 1
    }

    [Fact]
    public void Sampled_softmax_equals_the_log_q_corrected_reference_on_the_drawn_candidates()
    {
        var rng = new Random(4);
        double[][] catalogue = RandomCatalogue(rng, 2, 10);
        long[][] items = [[3, 0, 7, 5], [8, 2, 4, 1]];
        double[][] labels = [[5, 0, 3, 0], [0, 4, 1, 0]];
        float[] counts = [9, 0, 3, 12, 1, 1, 4, 0, 7, 2];
        const int samples = 6;
        using var scope = NewDisposeScope();

        // The loss draws with the generator exactly so; draw the same candidates here.
        using var generator = new Generator(5, CPU);
        Tensor smoothed = tensor(counts).to_type(ScalarType.Float64) + 1;
        long[] drawn = multinomial(smoothed, samples, replacement: true, generator: generator).data<long>().ToArray();

        using var again = new Generator(5, CPU);
        double value = new SoftmaxLoss(samples).Compute(CatalogueBatch(AsTensor(catalogue), items, labels, counts: counts), again).Total.item<double>();

        double total = counts.Sum(c => c + 1.0);
        double LogMq(long item) => Math.Log(samples * (counts[item] + 1) / total);
        double expected = Enumerable.Range(0, 2).Average(b =>
        {
            long[] positives = items[b].Where((_, i) => labels[b][i] > 0).ToArray();
            double sum = 0;
            foreach (long p in positives)
            {
                double own = catalogue[b][p];
                double z = Math.Exp(own) + drawn.Where(j => !positives.Contains(j)).Sum(j => Math.Exp(catalogue[b][j] - LogMq(j)));
                sum -= own - Math.Log(z);
            }
            return sum / positives.Length;
        });
        Assert.Equal(expected, value, 10);
    }

    [Fact]
    public void Accidental_hits_are_exactly_the_candidates_among_a_lists_rated_items()
    {
        var rng = new Random(6);
        const int lists = 7, width = 9, items = 30, samples = 40;
        long[] listItems = [.. Enumerable.Range(0, lists * width).Select(_ => (long)rng.Next(items))];
        // Rated and real (label > 0 and not padding); the rest, and padding with any id, must never count as a hit.
        bool[] positive = [.. Enumerable.Range(0, lists * width).Select(i => i % width < width - 2 && rng.Next(3) > 0)];
        long[] candidates = [.. Enumerable.Range(0, samples).Select(_ => (long)rng.Next(items))];
        using var scope = NewDisposeScope();
        bool[] hit = SoftmaxLoss.AccidentalHits(tensor(listItems, new long[] { lists, width }), tensor(positive, new long[] { lists, width }), tensor(candidates))
            .data<bool>().ToArray();
        for (int b = 0; b < lists; b++)
        {
            for (int m = 0; m < samples; m++)
            {
                bool expected = Enumerable.Range(0, width).Any(j => positive[b * width + j] && listItems[b * width + j] == candidates[m]);
                Assert.Equal(expected, hit[b * samples + m]);
            }
        }
        Assert.Contains(true, hit);
        Assert.Contains(false, hit);
    }

    [Fact]
    public void Sampled_softmax_with_log_q_correction_approaches_the_full_softmax_with_many_samples()
    {
        var rng = new Random(6);
        double[][] catalogue = RandomCatalogue(rng, 2, 6);
        long[][] items = [[2, 4], [5, 0]];
        double[][] labels = [[4, 0], [0, 3]]; // one rated item per list: the full softmax's normaliser is the limit
        float[] counts = [30, 1, 5, 0, 12, 2]; // a skewed proposal: only the log-q correction makes it unbiased
        using var scope = NewDisposeScope();
        using var generator = new Generator(7, CPU);
        double sampled = new SoftmaxLoss(400_000).Compute(CatalogueBatch(AsTensor(catalogue), items, labels, counts: counts), generator).Total.item<double>();
        Assert.Equal(FullReference(catalogue, items, labels), sampled, 2);
    }

    [Fact]
    public void Sum_reduction_equals_the_float64_multinomial_log_likelihood_and_its_gradient()
    {
        var rng = new Random(11);
        double[][] catalogue = RandomCatalogue(rng, 3, 7);
        long[][] items = [[2, 5, 0, 6], [1, 3, 4, 0], [6, 2, 5, 1]];
        // Lists with 2, 3 and 0 rated items: the empty list is left out of the average.
        double[][] labels = [[4, 0, 1, 0], [5, 3, 2, 0], [0, 0, 0, 0]];
        double[][] rated = labels[..2];
        using var scope = NewDisposeScope();
        Tensor c = AsTensor(catalogue).requires_grad_(true);
        LossOutput output = new SoftmaxLoss(reduction: SoftmaxReduction.Sum).Compute(CatalogueBatch(c, items, labels));
        double expected = FullReference(catalogue[..2], items[..2], rated, sum: true);
        Assert.Equal(expected, output.Total.item<double>(), 10);
        // Sum = mean times the number of rated items, list by list: not the mean form's value.
        Assert.NotEqual(FullReference(catalogue[..2], items[..2], rated), expected, 3);

        output.Total.backward();
        double[] autograd = c.grad!.data<double>().ToArray();
        double[] flat = catalogue.SelectMany(r => r).ToArray();
        double[] numeric = NumericGradient(x => FullReference([x[..7], x[7..14]], items[..2], rated, sum: true), flat);
        for (int i = 0; i < flat.Length; i++)
        {
            // The third list has no rated item: it contributes nothing, so its gradient is zero.
            Assert.Equal(i < 14 ? numeric[i] : 0, autograd[i], 6);
        }
    }

    [Fact]
    public void Sum_reduction_is_the_registry_option_and_an_unknown_reduction_is_refused()
    {
        var loss = Assert.IsType<SoftmaxLoss>(LossRegistry.Create(LossKind.Softmax, new TrainingOptions { SoftmaxReduction = SoftmaxReduction.Sum }));
        Assert.Equal(SoftmaxReduction.Sum, loss.Reduction);
        Assert.Contains("mean, sum", Assert.Throws<ArgumentException>(() => new SoftmaxLoss(reduction: (SoftmaxReduction)7)).Message, StringComparison.Ordinal);
        Assert.Contains("mean, sum", new TrainingOptions { SoftmaxReduction = (SoftmaxReduction)7 }.Validate()["softmaxReduction"], StringComparison.Ordinal);
    }

    [Fact]
    public void The_list_form_normalises_over_the_list_alone()
    {
        double[] s = [0.4, -1.0, 2.0];
        double[] y = [3, 0, 1];
        Assert.Equal(SoftmaxReference(s, y, s), Value(new SoftmaxLoss(), [s], [y]), 12);
    }
}
