using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Data;

public sealed class DatasetLoaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly SyntheticOptions Small = new() { Users = 5, Items = 30, MinRatingsPerUser = 5, MaxRatingsPerUser = 10, Seed = 7 };

    /// <summary>GroupLens as a stub serving <paramref name="release"/> built from <paramref name="data"/>, with a README beside it.</summary>
    private StubHandler GroupLens(string release, RatingDataset data, MovieLensFormat format)
    {
        string source = _temp.Sub("source-" + Guid.NewGuid().ToString("N"));
        SyntheticMovieLens.Write(data, Path.Combine(source, release), format);
        File.WriteAllText(Path.Combine(source, release, "README.txt"), "GroupLens README");
        return StubHandler.Serving(source);
    }

    [Theory]
    [InlineData("synthetic")]
    [InlineData("Synthetic")]
    public async Task Synthetic_is_generated_from_the_given_options_without_touching_the_disk_or_network(string name)
    {
        StubHandler handler = StubHandler.Offline();
        using var http = new HttpClient(handler);

        RatingDataset data = await DatasetLoader.LoadAsync(name, new DatasetLoadOptions { Synthetic = Small }, http);

        Assert.Equal(SyntheticMovieLens.Generate(Small).Fingerprint, data.Fingerprint);
        Assert.NotEqual(SyntheticMovieLens.Generate(Small with { Seed = 8 }).Fingerprint, data.Fingerprint);
        Assert.Empty(handler.Requests);
    }

    [Theory]
    [InlineData("ml-100k", MovieLensFormat.Ml100k)]
    [InlineData("my-own-ratings", MovieLensFormat.Csv)]
    public async Task A_folder_holding_ratings_is_loaded_as_it_is_whatever_its_name(string name, MovieLensFormat format)
    {
        RatingDataset written = SyntheticMovieLens.Generate(Small);
        string folder = _temp.Sub(name);
        SyntheticMovieLens.Write(written, folder, format);
        StubHandler handler = StubHandler.Offline();
        using var http = new HttpClient(handler);

        RatingDataset data = await DatasetLoader.LoadAsync(folder, new DatasetLoadOptions(), http);

        Assert.Equal(written.Fingerprint, data.Fingerprint);
        Assert.Equal(format, data.Format);
        Assert.Empty(handler.Requests);
        Assert.False(DatasetLoader.IsDownloadable(folder));
    }

    [Fact]
    public async Task A_missing_known_release_is_downloaded_into_its_folder_and_loaded()
    {
        RatingDataset served = SyntheticMovieLens.Generate(Small);
        StubHandler handler = GroupLens("ml-1m", served, MovieLensFormat.Ml1m);
        using var http = new HttpClient(handler);
        string folder = Path.Combine(_temp.Path, "data", "ml-1m");
        Directory.CreateDirectory(Path.GetDirectoryName(folder)!);
        var told = new List<string>();
        Assert.True(DatasetLoader.IsDownloadable(folder));

        RatingDataset data = await DatasetLoader.LoadAsync(folder, new DatasetLoadOptions { Progress = told.Add }, http);

        Assert.Equal(served.Fingerprint, data.Fingerprint);
        Assert.Equal([new Uri("https://files.grouplens.org/datasets/movielens/ml-1m.zip")], handler.Requests);
        Assert.Equal([$"{folder} is missing; downloading ml-1m from GroupLens..."], told);
        Assert.True(File.Exists(Path.Combine(folder, "ratings.dat")));
    }

    [Fact]
    public async Task A_known_release_folder_without_ratings_is_downloaded_into_and_the_users_files_are_kept_unchanged()
    {
        RatingDataset served = SyntheticMovieLens.Generate(Small);
        StubHandler handler = GroupLens("ml-100k", served, MovieLensFormat.Ml100k);
        using var http = new HttpClient(handler);
        string folder = _temp.Sub("ml-100k");
        File.WriteAllText(Path.Combine(folder, "notes.txt"), "my notes");
        File.WriteAllText(Path.Combine(folder, "README.txt"), "my readme"); // the release has a README.txt too

        RatingDataset data = await DatasetLoader.LoadAsync(folder, new DatasetLoadOptions(), http);

        Assert.Equal(served.Fingerprint, data.Fingerprint);
        Assert.Single(handler.Requests);
        Assert.Equal("my notes", File.ReadAllText(Path.Combine(folder, "notes.txt")));
        Assert.Equal("my readme", File.ReadAllText(Path.Combine(folder, "README.txt")));
        Assert.True(File.Exists(Path.Combine(folder, "u.data")));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_folder_without_ratings_that_is_not_named_after_a_release_is_never_downloaded(bool exists)
    {
        StubHandler handler = StubHandler.Offline();
        using var http = new HttpClient(handler);
        string folder = Path.Combine(_temp.Path, "my-project");
        if (exists)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "notes.txt"), "no ratings here");
        }
        Assert.False(DatasetLoader.IsDownloadable(folder));

        var e = await Assert.ThrowsAsync<MovieLensDataException>(() => DatasetLoader.LoadAsync(folder, new DatasetLoadOptions(), http));

        Assert.StartsWith($"{folder} holds no MovieLens ratings file: expected u.data (ml-100k)", e.Message, StringComparison.Ordinal);
        Assert.Contains("Only a folder named after a release (ml-100k, ml-1m, ml-latest-small, ml-25m) is downloaded.", e.Message, StringComparison.Ordinal);
        Assert.Empty(handler.Requests);
        if (exists)
        {
            Assert.Equal(["notes.txt"], Directory.GetFiles(folder).Select(Path.GetFileName));
        }
        else
        {
            Assert.False(Directory.Exists(folder));
        }
    }

    [Fact]
    public async Task A_known_release_is_not_downloaded_when_downloads_are_off_and_the_callers_hint_is_given()
    {
        StubHandler handler = StubHandler.Offline();
        using var http = new HttpClient(handler);
        string folder = Path.Combine(_temp.Path, "ml-latest-small");
        var options = new DatasetLoadOptions { Download = false, MissingHint = "Set Data:Root." };

        var e = await Assert.ThrowsAsync<MovieLensDataException>(() => DatasetLoader.LoadAsync(folder, options, http));

        Assert.Equal($"Data set 'ml-latest-small' is not in {folder} and downloads are off: put the files there. Set Data:Root.", e.Message);
        Assert.Empty(handler.Requests);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task A_file_given_as_the_data_set_is_refused_and_left_alone()
    {
        StubHandler handler = StubHandler.Offline();
        using var http = new HttpClient(handler);
        string file = Path.Combine(_temp.Path, "ml-100k");
        File.WriteAllText(file, "not a folder");

        var e = await Assert.ThrowsAsync<MovieLensDataException>(() => DatasetLoader.LoadAsync(file, new DatasetLoadOptions(), http));

        Assert.Equal($"{file} is a file; a data set is a folder holding a MovieLens ratings file.", e.Message);
        Assert.Empty(handler.Requests);
        Assert.Equal("not a folder", File.ReadAllText(file));
    }
}
