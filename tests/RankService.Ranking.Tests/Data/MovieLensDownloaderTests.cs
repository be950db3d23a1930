using System.Net;
using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Data;

public sealed class MovieLensDownloaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly SyntheticOptions Small = new() { Users = 5, Items = 30, MinRatingsPerUser = 5, MaxRatingsPerUser = 10 };

    [Fact]
    public async Task Folder_that_already_holds_a_release_is_returned_without_downloading()
    {
        string folder = _temp.Sub("ml-100k");
        SyntheticMovieLens.Write(SyntheticMovieLens.Generate(Small), folder, MovieLensFormat.Ml100k);
        StubHandler handler = StubHandler.Offline();
        using var http = new HttpClient(handler);

        string found = await MovieLensDownloader.EnsureAsync(_temp.Path, "ml-100k", http);

        Assert.Equal(folder, found);
        Assert.Empty(handler.Requests);
    }

    [Theory]
    [InlineData("ml-100k", "u.data")]
    [InlineData("ml-1m", "ratings.dat")]
    [InlineData("ml-25m", "ratings.csv")]
    public async Task Offline_machine_is_told_where_to_put_the_files(string name, string ratingsFile)
    {
        StubHandler handler = StubHandler.Offline();
        using var http = new HttpClient(handler);
        string folder = Path.Combine(_temp.Path, name);

        var e = await Assert.ThrowsAsync<MovieLensDataException>(() => MovieLensDownloader.EnsureAsync(_temp.Path, name, http));

        Assert.Equal([new Uri($"https://files.grouplens.org/datasets/movielens/{name}.zip")], handler.Requests);
        Assert.Contains("this machine seems to be offline", e.Message, StringComparison.Ordinal);
        Assert.Contains($"Download {name}.zip from https://grouplens.org/datasets/movielens/ and unzip it so that {Path.Combine(folder, ratingsFile)} exists",
            e.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(e.InnerException);
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Path)); // no partial folder left behind
    }

    [Fact]
    public async Task Http_error_reports_the_status_and_the_manual_step()
    {
        using var http = new HttpClient(new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.NotFound)));

        var e = await Assert.ThrowsAsync<MovieLensDataException>(() => MovieLensDownloader.EnsureAsync(_temp.Path, "ml-1m", http));

        Assert.StartsWith("Could not download https://files.grouplens.org/datasets/movielens/ml-1m.zip: the server answered 404 NotFound.", e.Message);
        Assert.Contains(Path.Combine(_temp.Path, "ml-1m", "ratings.dat"), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_release_name_lists_the_known_ones()
    {
        using var http = new HttpClient(StubHandler.Offline());

        var e = await Assert.ThrowsAsync<MovieLensDataException>(() => MovieLensDownloader.EnsureAsync(_temp.Path, "ml-7k", http));

        Assert.Equal($"Unknown MovieLens release 'ml-7k' and no ratings file in {Path.Combine(_temp.Path, "ml-7k")}; " +
                     "known releases: ml-100k, ml-1m, ml-latest-small, ml-25m.", e.Message);
    }

    [Fact]
    public async Task Downloaded_zip_is_unpacked_into_the_data_root()
    {
        RatingDataset data = SyntheticMovieLens.Generate(Small);
        string source = _temp.Sub("source");
        SyntheticMovieLens.Write(data, Path.Combine(source, "ml-latest-small"), MovieLensFormat.Csv);
        byte[] zip = StubHandler.ZipOf(source);
        var handler = new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(zip) });
        using var http = new HttpClient(handler);
        string root = _temp.Sub("data");

        string folder = await MovieLensDownloader.EnsureAsync(root, "ml-latest-small", http);

        Assert.Equal(Path.Combine(root, "ml-latest-small"), folder);
        Assert.Equal(data.Fingerprint, MovieLensLoader.Load(folder).Fingerprint);
        Assert.Equal([folder], Directory.GetFileSystemEntries(root)); // the staging folder is gone
    }

    [Fact]
    public async Task Zip_without_the_release_folder_is_rejected()
    {
        string source = _temp.Sub("flat");
        SyntheticMovieLens.Write(SyntheticMovieLens.Generate(Small), source, MovieLensFormat.Ml100k);
        byte[] zip = StubHandler.ZipOf(source); // u.data at the top, not under ml-100k/
        using var http = new HttpClient(new StubHandler(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(zip) }));
        string root = _temp.Sub("data");

        var e = await Assert.ThrowsAsync<MovieLensDataException>(() => MovieLensDownloader.EnsureAsync(root, "ml-100k", http));

        Assert.StartsWith("https://files.grouplens.org/datasets/movielens/ml-100k.zip does not hold ml-100k/u.data as expected.", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }
}
