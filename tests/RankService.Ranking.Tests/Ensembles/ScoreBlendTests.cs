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

    /// <summary>
    /// A float64 brute force of the validation protocol: per user with validation items, the items outside its train
    /// items ranked by score (ties broken against the held-out item, as the evaluator does), binary NDCG@10.
    /// </summary>
    private static double[] BruteForceNdcg10(IItemScorer scorer, UserSplit split)
    {
        var result = new List<double>();
        var row = new float[scorer.ItemCount];
        for (int u = 0; u < split.UserCount; u++)
        {
            int[] held = [.. split.ValidationItems[u].Distinct()];
            if (held.Length == 0)
            {
                continue;
            }
            scorer.Score([u], row);
            var train = new HashSet<int>(split.TrainItems[u]);
            double dcg = 0;
            foreach (int h in held)
            {
                int rank = Enumerable.Range(0, row.Length).Count(i => (!train.Contains(i) || held.Contains(i)) && row[i] >= row[h] && !(held.Contains(i) && i > h && row[i] == row[h]));
                dcg += rank <= 10 ? 1 / Math.Log2(rank + 1) : 0;
            }
            double idcg = Enumerable.Range(1, Math.Min(held.Length, 10)).Sum(r => 1 / Math.Log2(r + 1));
            result.Add(dcg / idcg);
        }
        return [.. result];
    }

    [Fact]
    public void Per_user_ndcg_at_10_matches_a_brute_force_and_averages_to_the_reported_metric()
    {
        (RatingDataset data, UserSplit split, EaseScorer ease) = Small.Value;
        var byUser = new List<double>();

        double reported = FullCatalogueEvaluator.Evaluate(ease, split, EvaluationTarget.Validation, [5, 10], ndcg10ByUser: byUser).Metrics["NDCG@10"];

        double[] reference = BruteForceNdcg10(ease, split);
        Assert.Equal(reference.Length, byUser.Count);
        for (int u = 0; u < reference.Length; u++)
        {
            Assert.Equal(reference[u], byUser[u], 1e-12);
        }
        Assert.Equal(byUser.Average(), reported, 1e-12);
        Assert.Contains(byUser, v => v > 0);
    }

    [Fact]
    public void Paired_standard_error_is_the_sample_deviation_of_the_differences_over_root_n()
    {
        // Differences 1, 2, 3, 6: mean 3, sample variance (4 + 1 + 0 + 9) / 3 = 14 / 3, se = sqrt(14 / 3 / 4).
        Assert.Equal(Math.Sqrt(14.0 / 3 / 4), ScoreBlend.PairedStandardError([2, 3, 4, 7], [1, 1, 1, 1]), 1e-15);
        Assert.Equal(0, ScoreBlend.PairedStandardError([0.5, 0.25], [0.5, 0.25]));
        Assert.Equal(0, ScoreBlend.PairedStandardError([0.5], [0.1]));
    }

    [Fact]
    public void TuneWeight_takes_the_smallest_weight_within_one_paired_standard_error_of_the_best_by_brute_force()
    {
        (RatingDataset data, UserSplit split, EaseScorer ease) = Small.Value;
        var popularity = new PopularityScorer(split);
        double[] weights = [0, 0.25, 0.5, 0.75, 1];

        // First scorer popularity, second (the anchor) EASE; then the other way round.
        bool ruleMoved = false;
        foreach ((IItemScorer first, IItemScorer second) in new (IItemScorer, IItemScorer)[] { (popularity, ease), (ease, popularity) })
        {
            double[][] byUser = [.. weights.Select(w => BruteForceNdcg10(new ScoreBlend([first, second], [w, 1 - w]), split))];
            double[] means = [.. byUser.Select(v => v.Average())];
            int best = Array.IndexOf(means, means.Max());
            int expected = Enumerable.Range(0, weights.Length).First(i => i == best || means[i] >= means[best] - ScoreBlend.PairedStandardError(byUser[i], byUser[best]));

            (double weight, IReadOnlyDictionary<string, double> chosen) = ScoreBlend.TuneWeight(first, second, split, [5, 10], weights);

            Assert.Equal(weights[expected], weight);
            Assert.Equal(means[expected], chosen["NDCG@10"], 1e-12);
            Assert.Contains("NDCG@5", chosen.Keys);
            Assert.True(means.Distinct().Count() > 1, "the weights should lead to different rankings on this data");
            ruleMoved |= expected != best;
        }
        // An arg-max would fail here: in at least one order the rule leaves the best weight for one nearer the anchor.
        Assert.True(ruleMoved, "precondition: the rule should choose other than the arg-max in at least one order");
    }

    [Fact]
    public void TuneWeight_leaves_the_anchor_alone_when_a_blend_beats_it_only_by_noise()
    {
        (RatingDataset data, UserSplit split, EaseScorer ease) = Small.Value;
        // EASE's own scores plus a little uniform noise: some mixes win on validation (by 0.004 at w 0.6 with this
        // seed), by less than the noise of 80 users.
        var random = new Random(NoiseSeed);
        var noisy = new float[data.UserCount, data.ItemCount];
        var row = new float[data.ItemCount];
        for (int u = 0; u < data.UserCount; u++)
        {
            ease.Score([u], row);
            double sd = Math.Sqrt(row.Select(x => (double)x * x).Average() - Math.Pow(row.Average(), 2));
            for (int i = 0; i < data.ItemCount; i++)
            {
                noisy[u, i] = row[i] + (float)(0.3 * sd * random.NextDouble());
            }
        }
        var twin = new TableScorer(noisy);
        double[] means = [.. ScoreBlend.DefaultWeights.Select(w =>
            FullCatalogueEvaluator.Evaluate(new ScoreBlend([twin, ease], [w, 1 - w]), split, EvaluationTarget.Validation, [10]).Metrics["NDCG@10"])];
        Assert.True(means.Max() > means[0], "precondition: some mix beats EASE alone on validation, so the plain arg-max would not pick it");

        (double weight, IReadOnlyDictionary<string, double> chosen) = ScoreBlend.TuneWeight(twin, ease, split, [10]);

        Assert.Equal(0, weight);
        Assert.Equal(means[0], chosen["NDCG@10"]);
    }

    private const int NoiseSeed = 1;

    /// <summary>The small synthetic set the tuning tests share (80 users, 120 items), its split and EASE fitted once.</summary>
    private static readonly Lazy<(RatingDataset Data, UserSplit Split, EaseScorer Ease)> Small = new(() =>
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 80, Items = 120, Seed = 6 });
        UserSplit split = RandomRatioSplit.Split(data, seed: 2);
        return (data, split, EaseScorer.Fit(split, 20));
    });

    [Fact]
    public void The_tuned_blend_is_never_below_the_anchor_and_within_a_standard_error_of_the_best_even_when_standardising_would_tie_scores()
    {
        (RatingDataset data, UserSplit split, EaseScorer ease) = Small.Value;
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
        double[] ByUser(IItemScorer scorer)
        {
            var values = new List<double>();
            FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, [10], ndcg10ByUser: values);
            return [.. values];
        }

        foreach ((IItemScorer first, IItemScorer second) in new (IItemScorer, IItemScorer)[] { (fine, popularity), (popularity, fine), (ease, popularity) })
        {
            (double weight, IReadOnlyDictionary<string, double> chosen) = ScoreBlend.TuneWeight(first, second, split, [10]);

            // The best weight of the grid, and the chosen one at most a paired standard error below it.
            double[][] byWeight = [.. ScoreBlend.DefaultWeights.Select(w => ByUser(new ScoreBlend([first, second], [w, 1 - w])))];
            double[] best = byWeight.MaxBy(v => v.Average())!;
            double[] chosenByUser = ByUser(new ScoreBlend([first, second], [weight, 1 - weight]));
            Assert.True(chosen["NDCG@10"] >= Alone(second), $"w {weight}: {chosen["NDCG@10"]} below the anchor's {Alone(second)}");
            Assert.True(best.Average() >= Alone(first), "the grid's ends are the parts alone");
            Assert.True(chosen["NDCG@10"] >= best.Average() - ScoreBlend.PairedStandardError(chosenByUser, best) - 1e-12,
                $"w {weight}: {chosen["NDCG@10"]} more than a standard error below the best {best.Average()}");
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
