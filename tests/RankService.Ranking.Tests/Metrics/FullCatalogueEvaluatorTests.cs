using RankService.Ranking.Metrics;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Metrics;

public class FullCatalogueEvaluatorTests
{
    private const double Tolerance = 1e-12;

    /// <summary>
    /// 3 users, 6 items. User 2 has too few ratings to hold anything out.
    ///   user 0: train {0, 1}, validation 2, test 3
    ///   user 1: train {4},    validation 5, test 0
    ///   user 2: train {1, 2}, none
    /// </summary>
    private static LeaveLastOutSplit HandSplit() => new(
        itemCount: 6,
        trainItems: [[0, 1], [4], [1, 2]],
        trainRatings: [[4f, 5f], [3f], [1f, 2f]],
        validationItem: [2, 5, -1],
        testItem: [3, 0, -1]);

    private static TableScorer HandScorer() => new(
    [
        [9, 8, 7, 5, 5, 2],
        [3, 0, 0, 0, 6, 3],
        [1, 1, 1, 1, 1, 1],
    ]);

    [Fact]
    public void Test_ranks_exclude_train_items_and_the_validation_item()
    {
        // user 0, item 3 (score 5): candidates {3, 4, 5}; item 4 ties at 5, pessimistic -> rank 2.
        //   Keeping the train items (9, 8) would give rank 4, keeping the validation item (7) rank 3.
        // user 1, item 0 (score 3): candidates {0, 1, 2, 3}; the rest score 0 -> rank 1.
        //   Keeping train item 4 (6) or validation item 5 (3, a tie) would give rank 2.
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(HandScorer(), HandSplit(), EvaluationTarget.Test, [1, 2, 5]);

        Assert.Equal(2, result.Users);
        IReadOnlyDictionary<string, double> m = result.Metrics;
        Assert.Equal(0.5, m["HR@1"], Tolerance);
        Assert.Equal(1, m["HR@2"], Tolerance);
        Assert.Equal(0.5, m["NDCG@1"], Tolerance);
        Assert.Equal((1 / Math.Log2(3) + 1) / 2, m["NDCG@2"], Tolerance); // 0.815465
        Assert.Equal((0.5 + 1) / 2, m["MRR"], Tolerance);
        Assert.Equal(0.5, m["MRR@1"], Tolerance);
        Assert.Equal(0.5, m["Recall@1"], Tolerance);
        Assert.Equal((1.0 / 5 + 1.0 / 5) / 2, m["Precision@5"], Tolerance);
        Assert.Equal(0.75, m["MAP@5"], Tolerance); // single relevant item: AP = 1 / rank
    }

    [Fact]
    public void Validation_ranks_exclude_train_items_only()
    {
        // user 0, item 2 (score 7): candidates {2, 3, 4, 5} score 7, 5, 5, 2 -> rank 1 (train items 9, 8 excluded).
        // user 1, item 5 (score 3): candidates {0, 1, 2, 3, 5}; item 0 ties at 3 -> rank 2; the test item is a candidate.
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(HandScorer(), HandSplit(), EvaluationTarget.Validation, [1, 2]);

        Assert.Equal(2, result.Users);
        Assert.Equal(0.5, result.Metrics["HR@1"], Tolerance);
        Assert.Equal(1, result.Metrics["HR@2"], Tolerance);
        Assert.Equal(0.75, result.Metrics["MRR"], Tolerance);
    }

    [Fact]
    public void Metrics_are_keyed_by_name_and_cut_off()
    {
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(HandScorer(), HandSplit(), EvaluationTarget.Test, [5, 10, 20, 10]);

        string[] expected =
        [
            "HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20", "MRR", "MRR@5", "MRR@10", "MRR@20",
            "Recall@5", "Recall@10", "Recall@20", "Precision@5", "Precision@10", "Precision@20", "MAP@5", "MAP@10", "MAP@20",
        ];
        Assert.Equal(expected.Order(), result.Metrics.Keys.Order());
    }

    [Fact]
    public void A_constant_scorer_earns_no_hit_until_k_covers_every_candidate()
    {
        // Test target: user 0 has 3 candidates, user 1 has 4; all tied, so each held-out item ranks last.
        var constant = new TableScorer([new float[6], new float[6], new float[6]]);
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(constant, HandSplit(), EvaluationTarget.Test, [1, 2, 3, 4]);

        Assert.Equal(0, result.Metrics["HR@1"]);
        Assert.Equal(0, result.Metrics["HR@2"]);
        Assert.Equal(0.5, result.Metrics["HR@3"], Tolerance);
        Assert.Equal(1, result.Metrics["HR@4"], Tolerance);
        Assert.Equal((1.0 / 3 + 1.0 / 4) / 2, result.Metrics["MRR"], Tolerance);
    }

    [Fact]
    public void Nan_scores_rank_below_every_number_and_tie_with_each_other()
    {
        float nan = float.NaN;
        var scorer = new TableScorer([[nan, 1, nan, 0, nan]]);

        // Item 3 (score 0) is beaten only by item 1: rank 2.
        Assert.Equal(2, SingleUserRank(scorer, heldOut: [3], excluded: []));
        // Item 0 (NaN) is beaten by both numbers and ties with the other NaNs: rank 5 of 5.
        Assert.Equal(5, SingleUserRank(scorer, heldOut: [0], excluded: []));
        // Excluding a NaN item removes one tie: rank 4.
        Assert.Equal(4, SingleUserRank(scorer, heldOut: [0], excluded: [4]));
    }

    [Fact]
    public void Several_held_out_items_get_distinct_ranks_with_ties_still_pessimistic()
    {
        // Items 0, 1, 2 tie at 5; item 1 is not held out, so it goes first: held-out items 0 and 2 get ranks 2 and 3.
        var scorer = new TableScorer([[5, 5, 5, 1, 0]]);
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(scorer, [[0, 2]], [[]], [1, 3]);

        IReadOnlyDictionary<string, double> m = result.Metrics;
        Assert.Equal(0, m["HR@1"]);
        Assert.Equal(1, m["Recall@3"], Tolerance);
        Assert.Equal(2.0 / 3, m["Precision@3"], Tolerance);
        Assert.Equal(0.5, m["MRR"], Tolerance);
        // (1/log2 3 + 1/log2 4) / (1 + 1/log2 3) = 1.130930 / 1.630930 = 0.693426
        Assert.Equal((1 / Math.Log2(3) + 0.5) / (1 + 1 / Math.Log2(3)), m["NDCG@3"], Tolerance);
        // (1/2 + 2/3) / min(2, 3) = 0.583333
        Assert.Equal((0.5 + 2.0 / 3) / 2, m["MAP@3"], Tolerance);
    }

    [Fact]
    public void A_held_out_item_listed_as_excluded_stays_a_candidate_and_duplicates_count_once()
    {
        var scorer = new TableScorer([[4, 3, 2, 1, 0]]);
        // Item 2 ranks behind 4 and 3; excluding item 0 twice and item 2 itself leaves only item 1 ahead: rank 2.
        Assert.Equal(2, SingleUserRank(scorer, heldOut: [2, 2], excluded: [0, 0, 2]));
    }

    [Fact]
    public void Users_without_held_out_items_are_neither_scored_nor_counted()
    {
        var scorer = HandScorer();
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(scorer, [[], [0], []], [[], [], []], [1], batchSize: 1);

        Assert.Equal(1, result.Users);
        Assert.Equal(1, scorer.Calls); // only user 1 was scored

        EvaluationResult none = FullCatalogueEvaluator.Evaluate(scorer, [[], [], []], [[], [], []], [1]);
        Assert.Equal(0, none.Users);
        Assert.All(none.Metrics.Values, v => Assert.Equal(0, v));
    }

    [Fact]
    public void Evaluate_rejects_a_scorer_of_another_catalogue_and_bad_cut_offs()
    {
        var scorer = new TableScorer([new float[5], new float[5], new float[5]]);
        Assert.Throws<ArgumentException>(() => FullCatalogueEvaluator.Evaluate(scorer, HandSplit(), EvaluationTarget.Test, [5]));
        Assert.Throws<ArgumentException>(() => FullCatalogueEvaluator.Evaluate(HandScorer(), HandSplit(), EvaluationTarget.Test, [0]));
        Assert.Throws<ArgumentException>(() => FullCatalogueEvaluator.Evaluate(HandScorer(), HandSplit(), EvaluationTarget.Test, []));
        Assert.Throws<ArgumentOutOfRangeException>(() => FullCatalogueEvaluator.Evaluate(HandScorer(), [[6], [], []], [[], [], []], [1]));
    }

    [Fact]
    public void Popularity_scorer_counts_train_interactions_only()
    {
        // Train items: {0, 1}, {4}, {1, 2}. Validation items 2, 5 and test items 3, 0 add nothing.
        var popularity = new PopularityScorer(HandSplit());
        Assert.Equal([1f, 2f, 1f, 0f, 1f, 0f], popularity.Counts);

        float[] scores = new float[2 * 6];
        popularity.Score([0, 2], scores);
        Assert.Equal([1f, 2f, 1f, 0f, 1f, 0f, 1f, 2f, 1f, 0f, 1f, 0f], scores);
    }

    [Fact]
    public void Popularity_scorer_evaluates_like_any_other_scorer()
    {
        // Counts 1, 2, 1, 0, 1, 0. Test target:
        // user 0, item 3 (0): candidates {3, 4, 5} score 0, 1, 0 -> item 4 higher, item 5 ties -> rank 3.
        // user 1, item 0 (1): candidates {0, 1, 2, 3} score 1, 2, 1, 0 -> item 1 higher, item 2 ties -> rank 3.
        var popularity = new PopularityScorer(HandSplit());
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(popularity, HandSplit(), EvaluationTarget.Test, [2, 3]);

        Assert.Equal(0, result.Metrics["HR@2"]);
        Assert.Equal(1, result.Metrics["HR@3"], Tolerance);
        Assert.Equal(1.0 / 3, result.Metrics["MRR"], Tolerance);
    }

    [Fact]
    public void Fast_evaluator_agrees_with_a_brute_force_sort_on_random_data()
    {
        var random = new Random(12345);
        const int users = 60, items = 70;
        int[] ks = [1, 3, 5, 10, 70];
        for (int trial = 0; trial < 5; trial++)
        {
            float[][] table = new float[users][];
            int[][] heldOut = new int[users][];
            int[][] excluded = new int[users][];
            for (int u = 0; u < users; u++)
            {
                // Few distinct values, so ties are common, and a sprinkle of NaN and infinities.
                table[u] = Enumerable.Range(0, items).Select(_ => random.Next(20) switch
                {
                    0 => float.NaN,
                    1 => float.NegativeInfinity,
                    2 => float.PositiveInfinity,
                    _ => random.Next(8) * 0.5f,
                }).ToArray();
                heldOut[u] = Enumerable.Range(0, random.Next(0, 6)).Select(_ => random.Next(items)).ToArray();
                excluded[u] = Enumerable.Range(0, random.Next(0, 30)).Select(_ => random.Next(items)).ToArray();
            }

            ReferenceResult expected = BruteForce(table, heldOut, excluded, ks);
            foreach (int batchSize in new[] { 1, 7, 256 })
            {
                EvaluationResult actual = FullCatalogueEvaluator.Evaluate(new TableScorer(table), heldOut, excluded, ks, batchSize);
                Assert.Equal(expected.Users, actual.Users);
                Assert.Equal(expected.Metrics.Keys.Order(), actual.Metrics.Keys.Order());
                foreach ((string name, double value) in expected.Metrics)
                {
                    Assert.True(Math.Abs(value - actual.Metrics[name]) < 1e-12,
                        $"{name}: expected {value}, got {actual.Metrics[name]} (trial {trial}, batch {batchSize})");
                }
            }
        }
    }

    private static int SingleUserRank(TableScorer scorer, int[] heldOut, int[] excluded)
    {
        EvaluationResult result = FullCatalogueEvaluator.Evaluate(scorer, [heldOut], [excluded], [1]);
        return (int)Math.Round(1 / result.Metrics["MRR"]);
    }

    private sealed record ReferenceResult(Dictionary<string, double> Metrics, int Users);

    /// <summary>
    /// Straight from the definitions: sort every candidate in float64 (score descending with NaN last, held-out
    /// items after other ties, then by index) and read the metrics off the sorted list.
    /// </summary>
    private static ReferenceResult BruteForce(float[][] table, int[][] heldOut, int[][] excluded, int[] ks)
    {
        var sums = new Dictionary<string, double>();
        void Add(string key, double value) => sums[key] = sums.GetValueOrDefault(key) + value;
        int evaluated = 0;
        for (int u = 0; u < table.Length; u++)
        {
            var relevant = heldOut[u].ToHashSet();
            if (relevant.Count == 0)
            {
                continue;
            }
            evaluated++;
            double[] scores = table[u].Select(s => (double)s).ToArray();
            bool[] isRelevant = Enumerable.Range(0, scores.Length).Select(relevant.Contains).ToArray();
            int[] ranked = Enumerable.Range(0, scores.Length)
                .Where(i => relevant.Contains(i) || !excluded[u].Contains(i))
                .OrderByDescending(i => scores[i]) // Comparer<double>.Default puts NaN lowest
                .ThenBy(i => isRelevant[i])
                .ThenBy(i => i)
                .ToArray();

            int firstHit = Array.FindIndex(ranked, i => isRelevant[i]) + 1;
            Add("MRR", 1.0 / firstHit);
            foreach (int k in ks)
            {
                int hits = 0;
                double dcg = 0, idcg = 0, precisionSum = 0;
                for (int r = 1; r <= Math.Min(k, ranked.Length); r++)
                {
                    if (isRelevant[ranked[r - 1]])
                    {
                        hits++;
                        dcg += 1 / Math.Log2(r + 1);
                        precisionSum += (double)hits / r;
                    }
                }
                for (int r = 1; r <= Math.Min(relevant.Count, k); r++)
                {
                    idcg += 1 / Math.Log2(r + 1);
                }
                Add($"HR@{k}", hits > 0 ? 1 : 0);
                Add($"NDCG@{k}", dcg / idcg);
                Add($"MRR@{k}", firstHit <= k ? 1.0 / firstHit : 0);
                Add($"Recall@{k}", (double)hits / relevant.Count);
                Add($"Precision@{k}", (double)hits / k);
                Add($"MAP@{k}", precisionSum / Math.Min(relevant.Count, k));

                // The graded Ndcg, given 0/1 labels and the same scores, must tell the same story.
                double[] candidateScores = ranked.Select(i => scores[i]).ToArray();
                double[] labels = ranked.Select(i => isRelevant[i] ? 1.0 : 0.0).ToArray();
                Assert.Equal(dcg / idcg, RankingMetrics.Ndcg(candidateScores, labels, k), 1e-12);
            }
        }
        return new ReferenceResult(sums.ToDictionary(p => p.Key, p => p.Value / evaluated), evaluated);
    }
}
