using RankService.Ranking.Baselines;
using RankService.Ranking.Data;
using RankService.Ranking.Metrics;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Baselines;

public class BaselineTests
{
    private static readonly RatingDataset Data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 200, Items = 300, Seed = 7 });

    [Fact]
    public void Ease_scores_equal_a_float64_brute_force_of_the_closed_form()
    {
        // 4 users, 5 items; X binary. B = -P / diag(P) column-wise with P = (X'X + lambda I)^-1, diag(B) = 0, scores = X B.
        int[][] train = [[0, 1], [1, 2, 3], [0, 3, 4], [2, 4]];
        const int n = 5;
        const double lambda = 2.0;
        var split = new UserSplit(n, train, train.Select(t => t.Select(_ => 1f).ToArray()).ToArray(),
            train.Select(_ => Array.Empty<int>()).ToArray(), train.Select(_ => Array.Empty<int>()).ToArray());

        var g = new double[n, n];
        foreach (int[] items in train)
        {
            foreach (int i in items)
            {
                foreach (int j in items)
                {
                    g[i, j] += 1;
                }
            }
        }
        for (int i = 0; i < n; i++)
        {
            g[i, i] += lambda;
        }
        double[,] p = Invert(g);
        var expected = new double[train.Length, n];
        for (int u = 0; u < train.Length; u++)
        {
            for (int j = 0; j < n; j++)
            {
                expected[u, j] = train[u].Where(i => i != j).Sum(i => -p[i, j] / p[j, j]);
            }
        }

        var scores = new float[train.Length * n];
        EaseScorer.Fit(split, lambda).Score([0, 1, 2, 3], scores);

        for (int u = 0; u < train.Length; u++)
        {
            for (int j = 0; j < n; j++)
            {
                Assert.Equal(expected[u, j], scores[u * n + j], 1e-5);
            }
        }
    }

    [Fact]
    public void Ease_and_bpr_beat_popularity_on_synthetic_data_under_the_recbole_protocol()
    {
        UserSplit split = RandomRatioSplit.Split(Data, seed: 1);
        double popularity = Baseline.Run(Baseline.Popularity, split, [10]).Test["NDCG@10"];
        BaselineResult ease = Baseline.Run(Baseline.Ease, split, [10], lambdas: [10, 100]);
        BaselineResult bpr = Baseline.Run(Baseline.Bpr, split, [10],
            new BprOptions { EmbeddingDim = 16, LearningRate = 1e-2, BatchSize = 256, Epochs = 30, Seed = 3 });

        Assert.True(ease.Test["NDCG@10"] > popularity + 0.05, $"EASE {ease.Test["NDCG@10"]:F4} vs popularity {popularity:F4}");
        Assert.True(bpr.Test["NDCG@10"] > popularity + 0.05, $"BPR {bpr.Test["NDCG@10"]:F4} vs popularity {popularity:F4}");
        Assert.StartsWith("lambda ", ease.Chosen, StringComparison.Ordinal);
        Assert.StartsWith("best epoch ", bpr.Chosen, StringComparison.Ordinal);
    }

    [Fact]
    public void Ease_picks_the_lambda_with_the_best_validation_ndcg()
    {
        UserSplit split = RandomRatioSplit.Split(Data, seed: 1);
        double[] lambdas = [1, 30, 3000];
        double[] validation = lambdas.Select(l =>
            FullCatalogueEvaluator.Evaluate(EaseScorer.Fit(split, l), split, EvaluationTarget.Validation, [10]).Metrics["NDCG@10"]).ToArray();

        BaselineResult result = Baseline.Run(Baseline.Ease, split, [10], lambdas: lambdas);

        Assert.Equal($"lambda {lambdas[Array.IndexOf(validation, validation.Max())]:G}", result.Chosen);
        Assert.Equal(validation.Max(), result.Validation["NDCG@10"], 1e-12);
    }

    [Fact]
    public void Bpr_initialises_its_tables_as_recbole_does_with_xavier_normal()
    {
        UserSplit split = RandomRatioSplit.Split(Data, seed: 1);
        (RankService.Ranking.Model.TwoTowerModel model, int bestEpoch, _) = BprMatrixFactorization.Train(split, new BprOptions { EmbeddingDim = 16, Epochs = 0 });
        using (model)
        {
            Assert.Equal(0, bestEpoch); // no training: the weights are the initial ones
            foreach (TorchSharp.Modules.Parameter p in model.parameters())
            {
                double expected = Math.Sqrt(2.0 / (p.shape[0] + p.shape[1])); // xavier_normal_: sqrt(2 / (fan_in + fan_out))
                Assert.InRange(p.std().item<float>(), 0.93 * expected, 1.07 * expected);
                Assert.InRange(p.mean().item<float>(), -0.1 * expected, 0.1 * expected);
            }
        }
    }

    [Fact]
    public void An_unknown_baseline_is_refused_by_name()
    {
        UserSplit split = RandomRatioSplit.Split(Data, seed: 1);
        ArgumentException e = Assert.Throws<ArgumentException>(() => Baseline.Run("svd", split, [10]));
        Assert.Contains("popularity, bpr, ease", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Gauss-Jordan with partial pivoting, float64.</summary>
    private static double[,] Invert(double[,] a)
    {
        int n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                m[i, j] = a[i, j];
            }
            m[i, n + i] = 1;
        }
        for (int c = 0; c < n; c++)
        {
            int pivot = Enumerable.Range(c, n - c).MaxBy(r => Math.Abs(m[r, c]));
            for (int j = 0; j < 2 * n; j++)
            {
                (m[c, j], m[pivot, j]) = (m[pivot, j], m[c, j]);
            }
            double d = m[c, c];
            for (int j = 0; j < 2 * n; j++)
            {
                m[c, j] /= d;
            }
            for (int r = 0; r < n; r++)
            {
                if (r != c)
                {
                    double f = m[r, c];
                    for (int j = 0; j < 2 * n; j++)
                    {
                        m[r, j] -= f * m[c, j];
                    }
                }
            }
        }
        var inverse = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                inverse[i, j] = m[i, n + j];
            }
        }
        return inverse;
    }
}
