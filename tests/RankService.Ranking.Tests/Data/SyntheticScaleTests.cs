using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Data;

public class SyntheticScaleTests
{
    private static readonly SyntheticScaleOptions Small = new() { Users = 400, Items = 250, Ratings = 23_457, MinRatingsPerUser = 20, Seed = 3 };

    [Fact]
    public void A_scale_set_loads_back_with_exactly_the_asked_users_movies_and_ratings()
    {
        using var folder = new TempFolder();
        SyntheticScale.Write(Small, folder.Path);
        RatingDataset data = MovieLensLoader.Load(folder.Path);

        Assert.Equal(MovieLensFormat.Csv, data.Format);
        Assert.Equal(400, data.UserCount);
        Assert.Equal(250, data.ItemCount); // every movie is rated at least once
        Assert.Equal(23_457, data.Ratings.Length);
        Assert.Equal(250, data.Catalogue.Count);
        int[] perUser = new int[data.UserCount];
        var pairs = new HashSet<(int, int)>();
        foreach (Rating r in data.Ratings)
        {
            perUser[r.User]++;
            Assert.True(pairs.Add((r.User, r.Item)), "a user rates a movie once");
            Assert.InRange(r.Value, 0.5f, 5f);
            Assert.Equal(r.Value * 2, MathF.Round(r.Value * 2));
        }
        Assert.All(perUser, n => Assert.InRange(n, 20, 250));
        Assert.True(perUser.Max() > 3 * perUser.Min(), "counts are heavy-tailed, as in MovieLens");
    }

    [Fact]
    public void A_scale_set_is_the_same_for_the_same_seed()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        SyntheticScale.Write(Small, a.Path);
        SyntheticScale.Write(Small, b.Path);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, "ratings.csv")), File.ReadAllBytes(Path.Combine(b.Path, "ratings.csv")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, "movies.csv")), File.ReadAllBytes(Path.Combine(b.Path, "movies.csv")));
    }

    [Fact]
    public void A_scale_set_rejects_counts_it_cannot_write()
    {
        using var folder = new TempFolder();
        Assert.Throws<ArgumentException>(() => SyntheticScale.Write(Small with { Ratings = 100 }, folder.Path));
        Assert.Throws<ArgumentException>(() => SyntheticScale.Write(Small with { Ratings = 400L * 250 + 1 }, folder.Path));
    }
}
