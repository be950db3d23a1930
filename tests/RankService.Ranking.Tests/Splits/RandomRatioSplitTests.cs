using RankService.Ranking.Data;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Splits;

public class RandomRatioSplitTests
{
    [Theory]
    [InlineData(1, 1, 0, 0)]
    [InlineData(2, 1, 0, 1)] // train keeps one, so only test gets the extra interaction
    [InlineData(5, 3, 1, 1)] // 0 < 0.5 < 1: test, then validation take one each from train
    [InlineData(10, 8, 1, 1)]
    [InlineData(25, 21, 2, 2)]
    [InlineData(737, 591, 73, 73)]
    public void Counts_follow_recbole_floor_of_ten_percent_with_its_small_user_rule(int n, int train, int validation, int test) =>
        Assert.Equal((train, validation, test), RandomRatioSplit.Counts(n));

    [Fact]
    public void Each_user_is_split_into_disjoint_train_validation_and_test_covering_every_interaction_with_label_one()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 40, Items = 60, Seed = 3 });
        UserSplit split = RandomRatioSplit.Split(data, seed: 11);

        for (int u = 0; u < data.UserCount; u++)
        {
            int[] rated = data.Ratings.Where(r => r.User == u).Select(r => r.Item).Distinct().Order().ToArray();
            (int train, int validation, int test) = RandomRatioSplit.Counts(rated.Length);
            Assert.Equal(train, split.TrainItems[u].Length);
            Assert.Equal(validation, split.ValidationItems[u].Length);
            Assert.Equal(test, split.TestItems[u].Length);
            Assert.Equal(rated, split.TrainItems[u].Concat(split.ValidationItems[u]).Concat(split.TestItems[u]).Order());
            Assert.All(split.TrainRatings[u], label => Assert.Equal(1f, label));
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_and_another_seed_a_different_one()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 30, Items = 80, Seed = 5 });
        UserSplit a = RandomRatioSplit.Split(data, seed: 1), b = RandomRatioSplit.Split(data, seed: 1), c = RandomRatioSplit.Split(data, seed: 2);
        Assert.Equal(a.TestItems, b.TestItems);
        Assert.Equal(a.ValidationItems, b.ValidationItems);
        Assert.NotEqual(a.TestItems, c.TestItems);
    }

    [Fact]
    public void The_protocol_is_chosen_by_name()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 20, Items = 80, Seed = 5 });
        Assert.IsType<LeaveLastOutSplit>(EvaluationProtocol.Split(data, EvaluationProtocol.Temporal));
        Assert.Contains(EvaluationProtocol.Split(data, EvaluationProtocol.RecBole).TestItems, t => t.Length > 1);
        Assert.Throws<ArgumentException>(() => EvaluationProtocol.Split(data, "random"));
    }
}
