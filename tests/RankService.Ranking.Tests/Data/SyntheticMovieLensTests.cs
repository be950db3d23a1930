using System.Text;
using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Data;

public sealed class SyntheticMovieLensTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(MovieLensFormat.Ml100k)]
    [InlineData(MovieLensFormat.Ml1m)]
    [InlineData(MovieLensFormat.Csv)]
    public void Synthetic_data_round_trips_through_every_format(MovieLensFormat format)
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions());
        string folder = Path.Combine(_temp.Path, "written");

        SyntheticMovieLens.Write(data, folder, format);
        RatingDataset loaded = MovieLensLoader.Load(folder);

        Assert.Equal(format, loaded.Format);
        Assert.Equal(data.Users.Ids, loaded.Users.Ids);
        Assert.Equal(data.Items.Ids, loaded.Items.Ids);
        Assert.Equal(data.Ratings, loaded.Ratings);
        Assert.Equal(data.Catalogue.Select(m => (m.Id, m.Title)), loaded.Catalogue.Select(m => (m.Id, m.Title)));
        Assert.Equal(data.Catalogue.Select(m => string.Join('|', m.Categories)), loaded.Catalogue.Select(m => string.Join('|', m.Categories)));
        Assert.Equal(data.Fingerprint, loaded.Fingerprint);
    }

    [Fact]
    public void Half_stars_round_trip_through_csv_and_ml1m_but_not_ml100k()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { HalfStars = true, Users = 50 });
        Assert.Contains(data.Ratings, r => r.Value == 0.5f);
        Assert.Contains(data.Ratings, r => r.Value == 3.5f);

        foreach (MovieLensFormat format in new[] { MovieLensFormat.Csv, MovieLensFormat.Ml1m })
        {
            string folder = Path.Combine(_temp.Path, format.ToString());
            SyntheticMovieLens.Write(data, folder, format);
            RatingDataset loaded = MovieLensLoader.Load(folder);
            Assert.Equal(data.Ratings, loaded.Ratings);
            Assert.Equal(data.Fingerprint, loaded.Fingerprint);
        }

        string ml100k = Path.Combine(_temp.Path, "ml100k");
        var e = Assert.Throws<ArgumentException>(() => SyntheticMovieLens.Write(data, ml100k, MovieLensFormat.Ml100k));
        Assert.Contains("u.data holds whole stars 1..5", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ml100k)); // checked before anything was written
    }

    [Fact]
    public void Writer_lays_out_files_as_the_releases_do()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions());
        string ml100k = _temp.Sub("ml-100k");
        string csv = _temp.Sub("ml-latest-small");
        SyntheticMovieLens.Write(data, ml100k, MovieLensFormat.Ml100k);
        SyntheticMovieLens.Write(data, csv, MovieLensFormat.Csv);

        Assert.Equal(["u.data", "u.genre", "u.info", "u.item", "u.user"], Directory.GetFiles(ml100k).Select(Path.GetFileName).Order());
        string[] uItem = File.ReadAllLines(Path.Combine(ml100k, "u.item"), Encoding.Latin1);
        Assert.All(uItem, line => Assert.Equal(24, line.Split('|').Length));
        Assert.Contains(uItem, line => line.StartsWith("3|Café Synthétique 3 (1972)|01-Jan-1972||http://us.imdb.com/M/title-exact?", StringComparison.Ordinal));
        byte[] bytes = File.ReadAllBytes(Path.Combine(ml100k, "u.item"));
        Assert.Contains((byte)0xE9, bytes);
        Assert.DoesNotContain((byte)0xC3, bytes); // no UTF-8 lead bytes
        Assert.Equal($"{data.UserCount} users\n{data.ItemCount} items\n{data.Ratings.Length} ratings\n",
            File.ReadAllText(Path.Combine(ml100k, "u.info")));

        string[] movies = File.ReadAllLines(Path.Combine(csv, "movies.csv"), Encoding.UTF8);
        Assert.Equal("movieId,title,genres", movies[0]);
        Assert.Contains(movies, line => line.StartsWith("5,\"Synthetic Movie 5, The (1977)\",", StringComparison.Ordinal));
        Assert.Contains(movies, line => line.StartsWith("9,\"\"\"Quoted\"\" Synthetic Movie 9 (1987)\",", StringComparison.Ordinal));
        Item noGenres = data.Catalogue.First(m => m.Categories.Count == 0);
        Assert.Equal("50", noGenres.Id);
        Assert.Contains($"50,{noGenres.Title},(no genres listed)", movies);
        string[] ratings = File.ReadAllLines(Path.Combine(csv, "ratings.csv"));
        Assert.Equal("userId,movieId,rating,timestamp", ratings[0]);
        Rating first = data.Ratings[0];
        Assert.Equal($"1,{data.Items.ToId(first.Item)},{first.Value:0.0},{first.Timestamp}", ratings[1]);
    }

    [Fact]
    public void Generation_is_deterministic_per_seed()
    {
        SyntheticData a = SyntheticMovieLens.GenerateWithModel(new SyntheticOptions { Seed = 7 });
        SyntheticData b = SyntheticMovieLens.GenerateWithModel(new SyntheticOptions { Seed = 7 });
        SyntheticData c = SyntheticMovieLens.GenerateWithModel(new SyntheticOptions { Seed = 8 });

        Assert.Equal(a.Dataset.Fingerprint, b.Dataset.Fingerprint);
        Assert.Equal(a.Dataset.Ratings, b.Dataset.Ratings);
        Assert.Equal(a.Model.UserFactors[17], b.Model.UserFactors[17]);
        Assert.Equal(a.Model.ItemBias, b.Model.ItemBias);
        Assert.NotEqual(a.Dataset.Fingerprint, c.Dataset.Fingerprint);
    }

    [Fact]
    public void Synthetic_data_has_the_requested_shape()
    {
        var options = new SyntheticOptions();
        RatingDataset data = SyntheticMovieLens.Generate(options);

        Assert.Equal("synthetic", data.Name);
        Assert.Equal(200, data.UserCount);
        Assert.Equal(Enumerable.Range(1, 200).Select(i => (long)i), data.Users.Integers!);
        Assert.InRange(data.ItemCount, 250, 300); // items nobody drew are not in the catalogue
        Assert.All(data.Items.Integers!, id => Assert.InRange(id, 1, 300));
        foreach (IGrouping<int, Rating> user in data.Ratings.GroupBy(r => r.User))
        {
            Assert.InRange(user.Count(), 20, 60);
            Assert.Equal(user.Count(), user.Select(r => r.Item).Distinct().Count());
            long[] times = user.Select(r => r.Timestamp).ToArray();
            Assert.True(times.Zip(times.Skip(1)).All(p => p.First < p.Second), "timestamps increase within a user");
            Assert.InRange(times[0], 881250949, 881250949 + 150 * 86400 + 7 * 86400);
        }
        Assert.All(data.Ratings, r => Assert.Contains(r.Value, new[] { 1f, 2f, 3f, 4f, 5f }));
        Dictionary<float, double> share = data.Ratings.GroupBy(r => r.Value).ToDictionary(g => g.Key, g => (double)g.Count() / data.Ratings.Length);
        Assert.InRange(share[4], 0.30, 0.38); // ml-100k: 34%
        Assert.InRange(share[1], 0.04, 0.08); // ml-100k: 6%
        Assert.Contains(data.Catalogue, m => m.Title.Contains('ñ', StringComparison.Ordinal) && m.Title.Contains(',', StringComparison.Ordinal));
    }

    [Fact]
    public void Watching_and_stars_follow_the_true_utility()
    {
        SyntheticData synthetic = SyntheticMovieLens.GenerateWithModel(new SyntheticOptions { Noise = 0.3, Affinity = 1.0 });
        RatingDataset data = synthetic.Dataset;
        SyntheticModel model = synthetic.Model;

        double watchedMinusAll = 0;
        double starCorrelation = 0;
        foreach (IGrouping<int, Rating> user in data.Ratings.GroupBy(r => r.User))
        {
            double[] utility = user.Select(r => (double)model.Utility(user.Key, r.Item)).ToArray();
            double all = Enumerable.Range(0, data.ItemCount).Average(i => model.Utility(user.Key, i));
            watchedMinusAll += utility.Average() - all;
            starCorrelation += Pearson(utility, user.Select(r => (double)r.Value).ToArray());
        }
        watchedMinusAll /= data.UserCount;
        starCorrelation /= data.UserCount;
        // Plackett-Luce picks high-utility items: the watched set sits well above the catalogue average,
        // and within it more stars go to higher utility (noise 0.3 against a utility spread of about 1.4).
        Assert.InRange(watchedMinusAll, 1.2, 2.0); // 1.53 at seed 42
        Assert.InRange(starCorrelation, 0.8, 1.0); // 0.91 at seed 42

        int[] oracle = model.Ranking(0);
        Assert.Equal(data.ItemCount, oracle.Length);
        Assert.True(oracle.Zip(oracle.Skip(1)).All(p => model.Utility(0, p.First) >= model.Utility(0, p.Second)));
    }

    [Fact]
    public void Writer_refuses_titles_the_format_cannot_hold()
    {
        var users = new IdMap([1L]);
        var items = new IdMap([1L]);
        var data = new RatingDataset("t", MovieLensFormat.Csv, users, items, [new Rating(0, 0, 4, 1)],
            [new Item("1", "Łódź (2001)", [])], "x");

        var latin1 = Assert.Throws<ArgumentException>(() => SyntheticMovieLens.Write(data, _temp.Sub("a"), MovieLensFormat.Ml1m));
        Assert.Contains("outside Latin-1", latin1.Message, StringComparison.Ordinal);

        string csv = _temp.Sub("b");
        SyntheticMovieLens.Write(data, csv, MovieLensFormat.Csv); // UTF-8 holds it
        Assert.Equal("Łódź (2001)", MovieLensLoader.Load(csv).Catalogue[0].Title);
    }

    private static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        double sxy = x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my));
        double sxx = x.Sum(v => (v - mx) * (v - mx)), syy = y.Sum(v => (v - my) * (v - my));
        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }
}
