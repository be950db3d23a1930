using RankService.Ranking.Baselines;
using RankService.Ranking.Data;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Metrics;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Ensembles;

public class ScoreBlendTests
{
    /// <summary>Scores read from a fixed users × items table.</summary>
    private sealed class TableScorer(float[,] table) : IItemScorer
    {
        public int ItemCount => table.GetLength(1);

        public void Score(ReadOnlySpan<int> users, Span<float> scores)
        {
            for (int r = 0; r < users.Length; r++)
            {
                for (int i = 0; i < ItemCount; i++)
                {
                    scores[(r * ItemCount) + i] = table[users[r], i];
                }
            }
        }
    }

    private static float[] ScoreAll(ScoreBlend scorer, int users)
    {
        var scores = new float[users * scorer.ItemCount];
        scorer.Score(Enumerable.Range(0, users).ToArray(), scores);
        return scores;
    }

    [Fact]
    public void The_blend_is_the_weighted_sum_of_per_user_standardised_scores_as_a_float64_reference()
    {
        float[,] a = { { 3f, 1f, 2f, 0f }, { -5f, 10f, 2.5f, 7f }, { 1f, 1f, 1f, 1f } };
        float[,] b = { { 0.1f, 0.4f, 0.2f, 0.3f }, { 100f, 120f, 90f, 95f }, { 2f, 0f, 1f, 5f } };
        double[] weights = [0.7, 0.3];

        float[] blended = ScoreAll(new ScoreBlend([new TableScorer(a), new TableScorer(b)], weights), 3);

        for (int u = 0; u < 3; u++)
        {
            for (int i = 0; i < 4; i++)
            {
                double expected = 0;
                foreach ((float[,] t, double w) in new[] { (a, weights[0]), (b, weights[1]) })
                {
                    double[] row = Enumerable.Range(0, 4).Select(j => (double)t[u, j]).ToArray();
                    double mean = row.Average();
                    double std = Math.Sqrt(row.Sum(x => (x - mean) * (x - mean)) / row.Length);
                    expected += std > 0 ? w * (row[i] - mean) / std : 0; // user 2's constant row in a adds nothing
                }
                Assert.Equal(expected, blended[(u * 4) + i], 1e-5);
            }
        }
    }

    [Fact]
    public void One_scorer_blended_alone_ranks_every_user_as_the_scorer_does()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 60, Items = 90, Seed = 4 });
        UserSplit split = RandomRatioSplit.Split(data, seed: 3);
        EaseScorer ease = EaseScorer.Fit(split, 50);

        EvaluationResult alone = FullCatalogueEvaluator.Evaluate(ease, split, EvaluationTarget.Test, [1, 5, 10]);
        EvaluationResult blended = FullCatalogueEvaluator.Evaluate(new ScoreBlend([ease], [2.5]), split, EvaluationTarget.Test, [1, 5, 10]);

        foreach ((string name, double value) in alone.Metrics)
        {
            Assert.Equal(value, blended.Metrics[name], 1e-9);
        }
    }

    [Fact]
    public void TuneWeight_returns_the_weight_with_the_best_validation_ndcg_of_a_brute_force_search()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 80, Items = 120, Seed = 6 });
        UserSplit split = RandomRatioSplit.Split(data, seed: 2);
        EaseScorer ease = EaseScorer.Fit(split, 20);
        var popularity = new PopularityScorer(split);
        double[] weights = [0, 0.25, 0.5, 0.75, 1];

        double[] validation = weights.Select(w => FullCatalogueEvaluator.Evaluate(
            new ScoreBlend([ease, popularity], [w, 1 - w]), split, EvaluationTarget.Validation, [10]).Metrics["NDCG@10"]).ToArray();
        (double weight, IReadOnlyDictionary<string, double> chosen) = ScoreBlend.TuneWeight(ease, popularity, split, [5, 10], weights);

        Assert.Equal(weights[Array.IndexOf(validation, validation.Max())], weight);
        Assert.Equal(validation.Max(), chosen["NDCG@10"], 1e-12);
        Assert.Contains("NDCG@5", chosen.Keys);
        Assert.True(validation.Distinct().Count() > 1, "the weights should lead to different rankings on this data");
    }

    [Fact]
    public void The_tuned_blend_is_never_below_either_part_alone_on_validation_even_when_standardising_would_tie_scores()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 80, Items = 120, Seed = 6 });
        UserSplit split = RandomRatioSplit.Split(data, seed: 2);
        EaseScorer ease = EaseScorer.Fit(split, 20);
        // A strong scorer whose scores differ only in the last bit of a large offset (float spacing there is 1/4):
        // standardised in float some of its top scores tie, so only its raw scores rank as the scorer does.
        var offset = new float[data.UserCount, data.ItemCount];
        var row = new float[data.ItemCount];
        for (int u = 0; u < data.UserCount; u++)
        {
            ease.Score([u], row);
            int[] order = [.. Enumerable.Range(0, data.ItemCount).OrderBy(i => row[i])];
            for (int rank = 0; rank < order.Length; rank++)
            {
                offset[u, order[rank]] = 4_169_728f + (rank * 0.25f);
            }
        }
        var fine = new TableScorer(offset);
        var popularity = new PopularityScorer(split);
        double Alone(IItemScorer scorer) => FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, [10]).Metrics["NDCG@10"];

        foreach ((IItemScorer first, IItemScorer second) in new (IItemScorer, IItemScorer)[] { (fine, popularity), (popularity, fine), (ease, popularity) })
        {
            (double weight, IReadOnlyDictionary<string, double> chosen) = ScoreBlend.TuneWeight(first, second, split, [10]);

            Assert.True(chosen["NDCG@10"] >= Alone(first), $"w {weight}: {chosen["NDCG@10"]} below the first part's {Alone(first)}");
            Assert.True(chosen["NDCG@10"] >= Alone(second), $"w {weight}: {chosen["NDCG@10"]} below the second part's {Alone(second)}");
            // The ends of the search are each part alone, to the last digit.
            Assert.Equal(Alone(first), Alone(new ScoreBlend([first, second], [1, 0])));
            Assert.Equal(Alone(second), Alone(new ScoreBlend([first, second], [0, 1])));
        }
        Assert.Contains(0.0, ScoreBlend.DefaultWeights);
        Assert.Contains(1.0, ScoreBlend.DefaultWeights);
    }

    [Fact]
    public void Combine_at_the_ends_is_either_row_raw_and_in_between_the_standardised_blend()
    {
        float[] first = [3f, 1f, 2f, 0f];
        float[] second = [0.1f, 0.4f, 0.2f, 0.3f];
        var target = new float[4];

        ScoreBlend.Combine(first, second, 1, target);
        Assert.Equal(first, target);
        ScoreBlend.Combine(first, second, 0, target);
        Assert.Equal(second, target);

        var table = new ScoreBlend([new TableScorer(new float[,] { { 3f, 1f, 2f, 0f } }), new TableScorer(new float[,] { { 0.1f, 0.4f, 0.2f, 0.3f } })], [0.6, 0.4]);
        ScoreBlend.Combine(first, second, 0.6, target);
        Assert.Equal(ScoreAll(table, 1), target);
    }

    [Fact]
    public void Mismatched_scorers_and_weights_are_refused()
    {
        var a = new TableScorer(new float[2, 3]);
        var b = new TableScorer(new float[2, 4]);
        Assert.Throws<ArgumentException>(() => new ScoreBlend([a], [1, 2]));
        Assert.Throws<ArgumentException>(() => new ScoreBlend([a, b], [0.5, 0.5]));
        Assert.Throws<ArgumentException>(() => new ScoreBlend([a], [double.NaN]));
        Assert.Throws<ArgumentException>(() => new ScoreBlend([], []));
    }
}
