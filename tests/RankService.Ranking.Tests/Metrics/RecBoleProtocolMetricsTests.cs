using RankService.Ranking.Metrics;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Metrics;

/// <summary>Several held-out items per user, as in RecBole's protocol: worked examples and a float64 brute force.</summary>
public class RecBoleProtocolMetricsTests
{
    private const double Tolerance = 1e-12;

    /// <summary>
    /// 8 items.
    ///   user 0: train {0, 1}, validation {2}, test {3, 4, 5}
    ///   user 1: train {0},    validation {},  test {7}
    ///   user 2: train {0},    validation {1}, test {}  (not evaluated on test)
    /// </summary>
    private static UserSplit HandSplit() => new(8,
        trainItems: [[0, 1], [0], [0]],
        trainRatings: [[1f, 1f], [1f], [1f]],
        validationItems: [[2], [], [1]],
        testItems: [[3, 4, 5], [7], []]);

    private static TableScorer HandScorer() => new(
    [
        [10, 9, 8, 7, 3, 1, 6, 2],
        [10, 9, 8, 7, 3, 1, 6, 2],
        [10, 9, 8, 7, 3, 1, 6, 2],
    ]);

    [Fact]
    public void Test_metrics_match_the_worked_example()
    {
        // user 0: candidates exclude train {0, 1} and validation {2}: 3 (7), 6 (6), 4 (3), 7 (2), 5 (1),
        //   so the test items have ranks 1, 3, 5.
        // user 1: candidates exclude {0}: 1 (9), 2 (8), 3 (7), 6 (6), 4 (3), 7 (2): rank 6, no hit at K <= 5.
        // user 2 has no test item and is not counted.
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(HandScorer(), HandSplit(), EvaluationTarget.Test, [2, 3]);
        IReadOnlyDictionary<string, double> m = result.Metrics;
        double d2 = 1 / Math.Log2(3), d3 = 1 / Math.Log2(4);

        Assert.Equal(2, result.Users);
        Assert.Equal((2.0 / 3) / 2, m["Recall@3"], Tolerance);          // hits / |test items|
        Assert.Equal((1.0 / 3) / 2, m["Recall@2"], Tolerance);
        Assert.Equal((2.0 / 3) / 2, m["Precision@3"], Tolerance);       // hits / K
        Assert.Equal((1.0 / 2) / 2, m["Precision@2"], Tolerance);
        Assert.Equal(1.0 / 2, m["HR@3"], Tolerance);
        Assert.Equal(1.0 / 2, m["MRR@3"], Tolerance);
        Assert.Equal((1 + d3) / (1 + d2 + d3) / 2, m["NDCG@3"], Tolerance); // ideal DCG over min(3, 3) slots
        Assert.Equal(1 / (1 + d2) / 2, m["NDCG@2"], Tolerance);             // ideal DCG over min(3, 2) slots
        Assert.Equal((1 + 1.0 / 6) / 2, m["MRR"], Tolerance);
    }

    [Fact]
    public void Validation_ranks_against_everything_outside_train()
    {
        // user 0: item 2 (8) among {2..7}: rank 1. user 2: item 1 (9) among {1..7}: rank 1. user 1 has none.
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(HandScorer(), HandSplit(), EvaluationTarget.Validation, [1]);
        Assert.Equal(2, result.Users);
        Assert.Equal(1.0, result.Metrics["NDCG@1"], Tolerance);
        Assert.Equal(1.0, result.Metrics["Recall@1"], Tolerance);
    }

    [Fact]
    public void Evaluator_agrees_with_a_float64_brute_force_on_random_multi_item_splits()
    {
        var rng = new Random(17);
        const int users = 30, items = 40;
        int[] ks = [1, 5, 10, 20];
        var train = new int[users][];
        var validation = new int[users][];
        var test = new int[users][];
        var table = new float[users][];
        for (int u = 0; u < users; u++)
        {
            int[] perm = Enumerable.Range(0, items).OrderBy(_ => rng.Next()).ToArray();
            int n = rng.Next(3, 25);
            (int tr, int va, int te) = RandomRatioSplit.Counts(n);
            train[u] = perm[..tr];
            validation[u] = perm[tr..(tr + va)];
            test[u] = perm[(tr + va)..n];
            // Scores from a small set so ties happen.
            table[u] = Enumerable.Range(0, items).Select(_ => (float)rng.Next(8)).ToArray();
        }
        var split = new UserSplit(items, train, train.Select(t => t.Select(_ => 1f).ToArray()).ToArray(), validation, test);

        IReadOnlyDictionary<string, double> fast = FullCatalogueEvaluator.Evaluate(new TableScorer(table), split, EvaluationTarget.Test, ks).Metrics;

        var sums = new Dictionary<string, double>();
        int counted = 0;
        for (int u = 0; u < users; u++)
        {
            if (test[u].Length == 0)
            {
                continue;
            }
            counted++;
            var relevant = test[u].ToHashSet();
            // Candidates sorted by score descending; ties put non-relevant first (pessimistic), then by item.
            int[] ranked = Enumerable.Range(0, items).Where(i => !train[u].Contains(i) && !validation[u].Contains(i))
                .OrderByDescending(i => (double)table[u][i]).ThenBy(i => relevant.Contains(i) ? 1 : 0).ThenBy(i => i).ToArray();
            foreach (int k in ks)
            {
                double hits = 0, dcg = 0, idcg = 0, rr = 0;
                for (int r = 1; r <= Math.Min(k, ranked.Length); r++)
                {
                    if (relevant.Contains(ranked[r - 1]))
                    {
                        hits++;
                        dcg += 1 / Math.Log2(r + 1);
                        rr = rr == 0 ? 1.0 / r : rr;
                    }
                }
                for (int r = 1; r <= Math.Min(k, relevant.Count); r++)
                {
                    idcg += 1 / Math.Log2(r + 1);
                }
                void Add(string name, double v) => sums[$"{name}@{k}"] = sums.GetValueOrDefault($"{name}@{k}") + v;
                Add("Recall", hits / relevant.Count);
                Add("Precision", hits / k);
                Add("HR", hits > 0 ? 1 : 0);
                Add("MRR", rr);
                Add("NDCG", dcg / idcg);
            }
        }
        Assert.Equal(counted, FullCatalogueEvaluator.Evaluate(new TableScorer(table), split, EvaluationTarget.Test, ks).Users);
        foreach ((string name, double sum) in sums)
        {
            Assert.Equal(sum / counted, fast[name], 1e-9);
        }
    }
}
