using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Data;

public class StringIdTests
{
    [Fact]
    public void Integer_ids_keep_numeric_order_and_other_ids_take_ordinal_order()
    {
        var numeric = new IdMap(["10", "9", "100", "-3", "9"]);
        Assert.Equal(["-3", "9", "10", "100"], numeric.Ids);
        Assert.True(numeric.AllIntegers);
        Assert.Equal([-3L, 9, 10, 100], numeric.Integers!);

        var text = new IdMap(["sku-2", "10", "9", "Sku-1", "sku-10"]);
        Assert.Equal(["10", "9", "Sku-1", "sku-10", "sku-2"], text.Ids);
        Assert.False(text.AllIntegers);
        Assert.Null(text.Integers);
        Assert.Equal(3, text.ToIndex("sku-10"));
    }

    [Theory]
    [InlineData("001")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("-0")]
    [InlineData("99999999999999999999")]
    public void A_spelling_other_than_the_canonical_decimal_is_a_string_id_not_the_integer(string id)
    {
        Assert.False(ExternalId.IsCanonicalInteger(id, out _));
        var map = new IdMap(["1", id]);
        Assert.False(map.AllIntegers);
        Assert.Equal(2, map.Count);
        Assert.NotEqual(map.ToIndex("1"), map.ToIndex(id));
    }

    [Theory]
    [InlineData("sku-88412", null)]
    [InlineData("3f2b8c1e-5d4a-4e0b-9c7d-2a1b3c4d5e6f", null)]
    [InlineData("ÿ café ✓", null)]
    [InlineData("", "must not be empty")]
    [InlineData("a/b", "must not contain '/'")]
    [InlineData("a\tb", "control characters")]
    [InlineData("a\u0085b", "control characters")]
    public void Ids_are_validated_by_one_rule(string id, string? problem)
    {
        if (problem is null)
        {
            Assert.Null(ExternalId.Problem(id));
            Assert.True(ExternalId.IsValid(id));
        }
        else
        {
            Assert.Contains(problem, ExternalId.Problem(id), StringComparison.Ordinal);
            Assert.False(ExternalId.IsValid(id));
        }
    }

    [Fact]
    public void An_id_of_256_characters_is_valid_and_one_of_257_is_not()
    {
        Assert.True(ExternalId.IsValid(new string('x', 256)));
        Assert.Contains("at most 256", ExternalId.Problem(new string('x', 257)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_data_set_built_from_integer_string_interactions_in_file_order_has_the_file_data_sets_fingerprint_and_maps()
    {
        RatingDataset file = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 40, Items = 60, Seed = 11 });
        Interaction[] interactions = file.Ratings
            .Select(r => new Interaction(file.Users.ToId(r.User), file.Items.ToId(r.Item), r.Value, r.Timestamp)).ToArray();

        RatingDataset built = RatingDataset.FromInteractions("built", interactions, file.Catalogue);

        Assert.Equal(file.Fingerprint, built.Fingerprint);
        Assert.Equal(file.Users.Ids, built.Users.Ids);
        Assert.Equal(file.Items.Ids, built.Items.Ids);
        Assert.Equal(file.Ratings, built.Ratings);
        Assert.Equal(file.Catalogue, built.Catalogue);
        Assert.Empty(built.NeverRecommend);
    }

    [Fact]
    public void A_data_set_with_string_ids_has_its_own_stable_fingerprint_and_never_recommend_lists()
    {
        Interaction[] interactions =
        [
            new("user-b", "sku-88412", 3, 100),
            new("user-a", "sku-2", 1, 90),
            new("user-a", "sku-88412", 1, 95),
        ];
        Item[] records = [new("sku-2", "Two", ["shoes"], Hidden: true, Timestamp: 1_700_000_000, Labels: """{"size": 42}""")];

        RatingDataset data = RatingDataset.FromInteractions("live", interactions, records,
            [("user-a", "sku-2"), ("user-b", "sku-2"), ("user-b", "sku-2"), ("ghost", "sku-2"), ("user-a", "unknown")], version: "v7");

        Assert.Equal(["user-a", "user-b"], data.Users.Ids);
        Assert.Equal(["sku-2", "sku-88412"], data.Items.Ids);
        Assert.Equal(records[0], data.Catalogue[0]);
        Assert.Equal(Item.Bare("sku-88412"), data.Catalogue[1]);
        Assert.Equal([0], data.NeverRecommend[0]);
        Assert.Equal([0], data.NeverRecommend[1]);
        Assert.Equal(2, data.NeverRecommend.Count);
        Assert.Equal("v7", data.Version);
        Assert.Equal(new Rating(1, 1, 3, 100), data.Ratings[0]);
        Assert.Equal(data.Fingerprint, RatingDataset.FromInteractions("again", interactions).Fingerprint);
        Assert.NotEqual(data.Fingerprint, RatingDataset.FromInteractions("reordered", [.. interactions.Reverse()]).Fingerprint);
    }

    [Fact]
    public void Ml100k_release_dates_become_item_timestamps_and_unknown_dates_stay_null()
    {
        string folder = TestData.TempFolder();
        File.WriteAllLines(Path.Combine(folder, "u.data"), ["1\t1\t4\t100", "1\t2\t3\t101", "1\t3\t3\t102", "1\t4\t3\t103"]);
        string flags = string.Join('|', Enumerable.Repeat("0", 19));
        // ml-100k spells some days with one digit (item 1373: 4-Feb-1971); a date that does not read is no time, not a refused release.
        File.WriteAllLines(Path.Combine(folder, "u.item"),
            [$"1|Toy Story (1995)|01-Jan-1995||url|{flags}", $"2|unknown||||{flags}", $"3|Good Morning (1971)|4-Feb-1971||url|{flags}", $"4|Odd (1990)|sometime||url|{flags}"],
            System.Text.Encoding.Latin1);

        RatingDataset data = MovieLensLoader.Load(folder);

        Assert.Equal(new DateTimeOffset(1995, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), data.Catalogue[0].Timestamp);
        Assert.Null(data.Catalogue[1].Timestamp);
        Assert.Equal(new DateTimeOffset(1971, 2, 4, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), data.Catalogue[2].Timestamp);
        Assert.Null(data.Catalogue[3].Timestamp);
        Assert.False(data.Catalogue[0].Hidden);
    }
}
