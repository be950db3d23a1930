using System.Text.Json;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Splits;

public class ColdUsersSplitTests
{
    private static readonly RatingDataset Data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 120, Items = 90, Seed = 9 });

    [Fact]
    public void A_tenth_of_the_users_is_held_out_of_training_and_split_80_20_into_fold_in_and_test_items()
    {
        var split = (ColdUsersSplit)EvaluationProtocol.Split(Data, SplitProtocol.ColdUsers, splitSeed: 4);

        Assert.Equal(12, split.HeldOutUsers.Length);
        Assert.False(split.TrainedIn);
        for (int u = 0; u < Data.UserCount; u++)
        {
            HashSet<int> rated = [.. Data.Ratings.Where(r => r.User == u).Select(r => r.Item)];
            if (split.HeldOutUsers.Contains(u))
            {
                Assert.Empty(split.TrainItems[u]);
                Assert.Empty(split.ValidationItems[u]);
                Assert.Empty(split.FoldInItems[u].Intersect(split.TestItems[u]));
                Assert.Equal(rated, [.. split.FoldInItems[u], .. split.TestItems[u]]);
                Assert.Equal((int)Math.Round(0.2 * rated.Count, MidpointRounding.AwayFromZero), split.TestItems[u].Length);
                Assert.Equal(split.FoldInItems[u], split.TestSplit.TrainItems[u]); // excluded from the test's candidates
                Assert.Equal(split.TestItems[u], split.TestSplit.TestItems[u]);
            }
            else
            {
                Assert.Empty(split.TestItems[u]);
                Assert.Empty(split.TestSplit.TestItems[u]);
                Assert.Empty(split.FoldInItems[u]);
                Assert.Equal(rated, [.. split.TrainItems[u], .. split.ValidationItems[u]]);
                Assert.NotEmpty(split.ValidationItems[u]);
            }
        }
    }

    [Fact]
    public void The_warm_variant_is_the_same_split_with_the_fold_in_items_in_training()
    {
        var cold = (ColdUsersSplit)EvaluationProtocol.Split(Data, SplitProtocol.ColdUsers, splitSeed: 4);
        var warm = (ColdUsersSplit)EvaluationProtocol.Split(Data, SplitProtocol.ColdUsersWarm, splitSeed: 4);

        Assert.True(warm.TrainedIn);
        Assert.Same(warm, warm.TestSplit);
        Assert.Equal(cold.HeldOutUsers, warm.HeldOutUsers);
        Assert.Equal(cold.TestItems, warm.TestItems);
        Assert.Equal(cold.ValidationItems, warm.ValidationItems);
        Assert.Equal(cold.FoldInItems, warm.FoldInItems);
        for (int u = 0; u < Data.UserCount; u++)
        {
            Assert.Equal(cold.HeldOutUsers.Contains(u) ? cold.FoldInItems[u] : cold.TrainItems[u], warm.TrainItems[u]);
            Assert.Equal(cold.HeldOutUsers.Contains(u) ? cold.FoldInRatings[u] : cold.TrainRatings[u], warm.TrainRatings[u]);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_split_and_another_seed_other_users()
    {
        var a = ColdUsersSplit.Create(Data, 4, trainedIn: false);
        var b = ColdUsersSplit.Create(Data, 4, trainedIn: false);
        var c = ColdUsersSplit.Create(Data, 5, trainedIn: false);
        Assert.Equal(a.HeldOutUsers, b.HeldOutUsers);
        Assert.Equal(a.TestItems, b.TestItems);
        Assert.Equal(a.ValidationItems, b.ValidationItems);
        Assert.NotEqual(a.HeldOutUsers, c.HeldOutUsers);
    }

    [Fact]
    public void The_protocols_wire_names_are_cold_users_and_cold_users_warm()
    {
        Assert.Equal("\"cold-users\"", JsonSerializer.Serialize(SplitProtocol.ColdUsers));
        Assert.Equal(SplitProtocol.ColdUsersWarm, JsonSerializer.Deserialize<SplitProtocol>("\"cold-users-warm\""));
    }
}
