using RankService.Ranking.Metrics;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Metrics;

public class SampledEvaluationTests
{
    /// <summary>40 users, 12 items, scores from a fixed generator; each user trains on 3 items, holds out 2 more.</summary>
    private static (LeaveLastOutSplit Split, TableScorer Scorer) Fixture()
    {
        var random = new Random(4);
        int users = 40, items = 12;
        int[][] train = new int[users][];
        int[] validation = new int[users], test = new int[users];
        for (int u = 0; u < users; u++)
        {
            int[] order = [.. Enumerable.Range(0, items).OrderBy(_ => random.Next())];
            train[u] = [.. order[..3].Order()];
            validation[u] = order[3];
            test[u] = order[4];
        }
        float[][] table = [.. Enumerable.Range(0, users).Select(_ => Enumerable.Range(0, items).Select(_ => (float)random.NextDouble()).ToArray())];
        return (new LeaveLastOutSplit(items, train, [.. train.Select(t => t.Select(_ => 4f).ToArray())], validation, test), new TableScorer(table));
    }

    [Fact]
    public void A_user_sample_ranks_that_many_users_the_same_ones_each_time_and_matches_them_evaluated_alone()
    {
        (LeaveLastOutSplit split, TableScorer scorer) = Fixture();
        EvaluationResult a = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, [1, 5], maxUsers: 7, sampleSeed: 3);
        EvaluationResult b = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, [1, 5], maxUsers: 7, sampleSeed: 3);
        Assert.Equal(7, a.Users);
        Assert.Equal(a.Metrics, b.Metrics);

        // The same 7 users drawn the documented way (partial Fisher-Yates with the seed), evaluated through the
        // general protocol with everyone else holding nothing out, give the same metrics.
        var draw = new Random(3);
        int[] all = [.. Enumerable.Range(0, 40)];
        for (int i = 0; i < 7; i++)
        {
            int j = draw.Next(i, 40);
            (all[i], all[j]) = (all[j], all[i]);
        }
        HashSet<int> chosen = [.. all[..7]];
        int[][] heldOut = [.. Enumerable.Range(0, 40).Select(u => chosen.Contains(u) ? new[] { split.ValidationItems[u][0] } : [])];
        EvaluationResult alone = FullCatalogueEvaluator.Evaluate(scorer, heldOut, split.TrainItems, [1, 5]);
        Assert.Equal(alone.Metrics, a.Metrics);
    }

    [Fact]
    public void A_sample_at_least_as_large_as_the_users_evaluates_every_user()
    {
        (LeaveLastOutSplit split, TableScorer scorer) = Fixture();
        EvaluationResult all = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Test, [10]);
        EvaluationResult sampled = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Test, [10], maxUsers: 40);
        Assert.Equal(40, sampled.Users);
        Assert.Equal(all.Metrics, sampled.Metrics);
    }
}
