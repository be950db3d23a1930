using RankService.Ranking.Data;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

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
    public void The_split_equals_the_numpy_reference_split_users_in_ascending_id_order_items_in_file_order()
    {
        // Rows interleave users 30, 10, 20 (file order is not id order); user 10 rates item 100 + 37 * 1 % 61 twice.
        var rows = Enumerable.Range(0, 44).Select(k => ((long)((((k * 7) + 2) % 3) + 1) * 10, 100L + (k * 37 % 61), 4f, (long)k)).ToList();
        rows.Add((10, rows.First(r => r.Item1 == 10).Item2, 4f, 99));
        RatingDataset data = TestData.FromTuples([.. rows]);

        UserSplit split = RandomRatioSplit.Split(data, seed: 7);

        // Printed by a NumPy script: rs = RandomState(7); for each user in ascending id, its distinct items in file
        // order permuted by rs.permutation(n), then train / validation / test by the counts above.
        long[] Raw(int[] dense) => dense.Select(i => data.Items.Integers![i]).ToArray();
        int u10 = data.Users.ToIndex(10), u20 = data.Users.ToIndex(20), u30 = data.Users.ToIndex(30);
        Assert.Equal([110L, 143, 149, 115, 127, 137, 126, 105, 116, 121, 138, 104, 132], Raw(split.TrainItems[u10]));
        Assert.Equal([160L], Raw(split.ValidationItems[u10]));
        Assert.Equal([154L], Raw(split.TestItems[u10]));
        Assert.Equal([102L, 119, 114, 153, 152, 141, 136, 125, 103, 113, 130, 108], Raw(split.TrainItems[u20]));
        Assert.Equal([158L], Raw(split.ValidationItems[u20]));
        Assert.Equal([147L], Raw(split.TestItems[u20]));
        Assert.Equal([156L, 128, 112, 101, 117, 150, 151, 139, 123, 100, 129, 145, 140], Raw(split.TrainItems[u30]));
        Assert.Equal([134L], Raw(split.ValidationItems[u30]));
        Assert.Equal([106L], Raw(split.TestItems[u30]));
    }

    [Fact]
    public void A_negative_split_seed_is_refused()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 20, Items = 80, Seed = 5 });
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomRatioSplit.Split(data, seed: -1));
        Assert.Contains("splitSeed", new TrainingOptions { SplitSeed = -1 }.Validate().Keys);
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
        Assert.IsType<LeaveLastOutSplit>(EvaluationProtocol.Split(data, SplitProtocol.Temporal));
        Assert.Contains(EvaluationProtocol.Split(data, SplitProtocol.RecBole).TestItems, t => t.Length > 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => EvaluationProtocol.Split(data, (SplitProtocol)7));
    }
}
