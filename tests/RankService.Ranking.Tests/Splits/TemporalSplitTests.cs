using RankService.Ranking.Splits;

namespace RankService.Ranking.Tests.Splits;

public class TemporalSplitTests
{
    [Fact]
    public void Latest_rating_is_test_the_one_before_is_validation_and_the_rest_train_in_time_order()
    {
        var data = TestData.FromTuples(
            (1, 10, 4, 300), (1, 11, 5, 100), (1, 12, 3, 500), (1, 13, 2, 200), (1, 14, 1, 400),
            (2, 10, 5, 50), (2, 11, 4, 60));
        LeaveLastOutSplit split = TemporalSplit.LeaveLastOut(data);
        int Item(long raw) => data.Items.ToIndex(raw);

        Assert.Equal(new[] { Item(11), Item(13), Item(10) }, split.TrainItems[0]);
        Assert.Equal(new float[] { 5, 2, 4 }, split.TrainRatings[0]);
        Assert.Equal(Item(14), split.ValidationItem[0]);
        Assert.Equal(Item(12), split.TestItem[0]);
    }

    [Fact]
    public void Users_with_fewer_than_three_ratings_stay_in_train_only()
    {
        var data = TestData.FromTuples((1, 10, 4, 1), (1, 11, 5, 2), (2, 10, 3, 1), (2, 11, 3, 2), (2, 12, 3, 3));
        LeaveLastOutSplit split = TemporalSplit.LeaveLastOut(data);
        Assert.Equal(2, split.TrainItems[0].Length);
        Assert.Equal(-1, split.ValidationItem[0]);
        Assert.Equal(-1, split.TestItem[0]);
        Assert.Single(split.TrainItems[1]);
        Assert.NotEqual(-1, split.TestItem[1]);
    }

    [Fact]
    public void Equal_timestamps_are_ordered_by_item_so_the_split_is_deterministic()
    {
        var forward = TestData.FromTuples((1, 30, 4, 7), (1, 10, 4, 7), (1, 20, 4, 7));
        var backward = TestData.FromTuples((1, 20, 4, 7), (1, 10, 4, 7), (1, 30, 4, 7));
        LeaveLastOutSplit a = TemporalSplit.LeaveLastOut(forward);
        LeaveLastOutSplit b = TemporalSplit.LeaveLastOut(backward);
        Assert.Equal(forward.Items.ToIndex(30), a.TestItem[0]);
        Assert.Equal(a.TestItem, b.TestItem);
        Assert.Equal(a.ValidationItem, b.ValidationItem);
    }
}
