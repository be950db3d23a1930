using RankService.Ranking.Data;
using RankService.Ranking.Model;
using RankService.Ranking.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Training;

public class LazyEmbeddingUpdateTests
{
    private const int Rows = 6;
    private const int Dim = 3;
    private const double Lr = 0.05;

    // Per step: the rows looked up (duplicates included) and, per lookup, the weights of loss = sum_k w_k . e[idx_k].
    private static readonly long[][] Lookups = [[0, 2, 2, 5], [1, 2], [4, 4, 4], [0, 1, 2, 3, 4, 5], [3]];

    private static double[] Weights(int step, int lookup) =>
        [0.3 * (step + 1) - lookup, 0.7 - 0.2 * lookup, (lookup % 2 == 0 ? 1.5 : -2.0) / (step + 1)];

    private static double[] Start() => Enumerable.Range(0, Rows * Dim).Select(i => Math.Sin(i + 1)).ToArray();

    /// <summary>Runs the steps on an embedding table with sparse (or dense) gradients; returns the final weights.</summary>
    private static double[] Train(bool sparse, double weightDecay, double clip, long[][] lookups)
    {
        using var table = nn.Embedding(Rows, Dim, sparse: sparse, dtype: ScalarType.Float64);
        using (no_grad())
        {
            table.weight!.copy_(tensor(Start(), [Rows, Dim], dtype: ScalarType.Float64));
        }
        using var adam = new AdamOptimizer(table.parameters(), Lr, weightDecay);
        for (int step = 0; step < lookups.Length; step++)
        {
            using var scope = NewDisposeScope();
            long[] idx = lookups[step];
            double[] w = Enumerable.Range(0, idx.Length).SelectMany(k => Weights(step, k)).ToArray();
            adam.ZeroGrad();
            table.forward(tensor(idx)).mul(tensor(w, [idx.Length, Dim], dtype: ScalarType.Float64)).sum().backward();
            if (clip > 0 && sparse)
            {
                adam.ClipGradNorm(clip);
            }
            else if (clip > 0)
            {
                nn.utils.clip_grad_norm_(table.parameters(), clip);
            }
            adam.Step();
        }
        return table.weight!.data<double>().ToArray();
    }

    /// <summary>The lazy rule in float64: only rows looked up in a step (duplicates summed) are updated, moments included.</summary>
    private static double[] Reference(double weightDecay, double clip)
    {
        double[] p = Start(), m = new double[p.Length], v = new double[p.Length];
        for (int step = 0; step < Lookups.Length; step++)
        {
            var grad = new Dictionary<long, double[]>();
            for (int k = 0; k < Lookups[step].Length; k++)
            {
                double[] g = grad.TryGetValue(Lookups[step][k], out double[]? existing) ? existing : grad[Lookups[step][k]] = new double[Dim];
                double[] w = Weights(step, k);
                for (int d = 0; d < Dim; d++)
                {
                    g[d] += w[d];
                }
            }
            double norm = Math.Sqrt(grad.Values.Sum(g => g.Sum(x => x * x)));
            double scale = clip > 0 ? Math.Min(1, clip / (norm + 1e-6)) : 1;
            int t = step + 1;
            foreach ((long row, double[] g) in grad)
            {
                for (int d = 0; d < Dim; d++)
                {
                    int i = (int)row * Dim + d;
                    double gi = (g[d] * scale) + (weightDecay * p[i]);
                    m[i] = (0.9 * m[i]) + (0.1 * gi);
                    v[i] = (0.999 * v[i]) + (0.001 * gi * gi);
                    p[i] -= Lr / (1 - Math.Pow(0.9, t)) * m[i] / ((Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(0.999, t))) + 1e-8);
                }
            }
        }
        return p;
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(1e-2, 0.0)]
    [InlineData(1e-2, 1.0)]
    public void Sparse_gradients_get_the_lazy_update_of_a_float64_reference(double weightDecay, double clip)
    {
        double[] ours = Train(sparse: true, weightDecay, clip, Lookups);
        double[] expected = Reference(weightDecay, clip);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], ours[i], 10);
        }
        // Row 3 is looked up only in the last two steps: until then it kept its start, unlike the dense update with decay.
        double[] afterThree = Train(sparse: true, weightDecay, clip, Lookups[..3]);
        Assert.Equal(Start()[(3 * Dim)..(4 * Dim)], afterThree[(3 * Dim)..(4 * Dim)]);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-2)]
    public void Lazy_and_dense_updates_agree_when_every_step_touches_every_row(double weightDecay)
    {
        long[][] everyRow = [[0, 1, 2, 3, 4, 5, 5], [5, 4, 3, 2, 1, 0], [0, 0, 1, 2, 3, 4, 5]];
        double[] lazy = Train(sparse: true, weightDecay, clip: 0.5, everyRow);
        double[] dense = Train(sparse: false, weightDecay, clip: 0.5, everyRow);
        for (int i = 0; i < dense.Length; i++)
        {
            Assert.Equal(dense[i], lazy[i], 10);
        }
    }

    [Fact]
    public void ClipGradNorm_measures_sparse_gradients_as_their_dense_equivalent()
    {
        using var sparse = nn.Embedding(Rows, Dim, sparse: true, dtype: ScalarType.Float64);
        using var dense = nn.Embedding(Rows, Dim, dtype: ScalarType.Float64);
        long[] idx = [1, 1, 4, 0, 4, 4];
        using Tensor w = tensor(Enumerable.Range(0, idx.Length * Dim).Select(i => Math.Cos(i)).ToArray(), [idx.Length, Dim], dtype: ScalarType.Float64);
        sparse.forward(tensor(idx)).mul(w).sum().backward();
        dense.forward(tensor(idx)).mul(w).sum().backward();
        using var adam = new AdamOptimizer(sparse.parameters(), Lr, 0);
        double expected = nn.utils.clip_grad_norm_(dense.parameters(), 1e9);
        Assert.Equal(expected, adam.ClipGradNorm(1e9), 10);
    }

    [Fact]
    public void Auto_updates_are_dense_for_movielens_sized_data_and_lazy_for_ml25m()
    {
        var auto = new TrainingOptions();
        Assert.False(auto.LazyEmbeddingUpdates(943, 1682));
        Assert.False(auto.LazyEmbeddingUpdates(69_878, 10_677));
        Assert.True(auto.LazyEmbeddingUpdates(162_541, 59_047));
        Assert.True((auto with { EmbeddingUpdates = EmbeddingUpdateMode.Lazy }).LazyEmbeddingUpdates(943, 1682));
        Assert.False((auto with { EmbeddingUpdates = EmbeddingUpdateMode.Dense }).LazyEmbeddingUpdates(162_541, 59_047));
        Assert.Contains("embeddingUpdates", (auto with { EmbeddingUpdates = (EmbeddingUpdateMode)7 }).Validate().Keys);
    }
}
