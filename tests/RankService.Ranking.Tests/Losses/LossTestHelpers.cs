using RankService.Ranking.Losses;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Losses;

internal static class LossTestHelpers
{
    /// <summary>Runs a loss on float64 rows of equal width (mask all true unless given).</summary>
    public static double Value(IRankingLoss loss, double[][] scores, double[][] labels, bool[][]? mask = null, long seed = 1)
    {
        using var scope = NewDisposeScope();
        (Tensor s, Tensor y, Tensor m) = Tensors(scores, labels, mask);
        using var generator = new Generator((ulong)seed, CPU);
        return loss.Compute(s, y, m, generator).Total.item<double>();
    }

    /// <summary>The loss and its autograd gradient with respect to the scores of a single list.</summary>
    public static (double Value, double[] Gradient) ValueAndGradient(IRankingLoss loss, double[] scores, double[] labels, long seed = 1)
    {
        using var scope = NewDisposeScope();
        (Tensor s, Tensor y, Tensor m) = Tensors([scores], [labels], null);
        s.requires_grad_(true);
        using var generator = new Generator((ulong)seed, CPU);
        Tensor total = loss.Compute(s, y, m, generator).Total;
        total.backward();
        return (total.item<double>(), s.grad!.data<double>().ToArray());
    }

    public static (Tensor Scores, Tensor Labels, Tensor Mask) Tensors(double[][] scores, double[][] labels, bool[][]? mask)
    {
        int rows = scores.Length;
        int width = scores[0].Length;
        mask ??= scores.Select(r => r.Select(_ => true).ToArray()).ToArray();
        Tensor s = tensor(scores.SelectMany(r => r).ToArray(), new long[] { rows, width }, dtype: ScalarType.Float64);
        Tensor y = tensor(labels.SelectMany(r => r).ToArray(), new long[] { rows, width }, dtype: ScalarType.Float64);
        Tensor m = tensor(mask.SelectMany(r => r).ToArray(), new long[] { rows, width });
        return (s, y, m);
    }

    public static double[] RandomScores(Random rng, int n, double scale = 2) =>
        Enumerable.Range(0, n).Select(_ => (rng.NextDouble() - 0.5) * 2 * scale).ToArray();

    /// <summary>Distinct labels n-1..0 in a random arrangement.</summary>
    public static double[] TieFreeLabels(Random rng, int n)
    {
        double[] labels = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        rng.Shuffle(labels);
        return labels;
    }
}
