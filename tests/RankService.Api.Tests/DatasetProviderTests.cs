using RankService.Api.Options;
using RankService.Ranking.Data;

namespace RankService.Api.Tests;

/// <summary>The API's side of the shared <see cref="DatasetLoader"/> rule: configured names under Data:Root, downloads on.</summary>
public sealed class DatasetProviderTests
{
    private static MovieLensDatasetProvider Provider(string root, string name, CountingHttp http) =>
        new(Microsoft.Extensions.Options.Options.Create(new DataOptions { Root = root, Datasets = [name], Download = true }), http);

    [Fact]
    public void A_configured_folder_that_is_not_a_release_is_never_downloaded_even_with_downloads_on()
    {
        string root = ApiHost.TempFolder();
        Directory.CreateDirectory(Path.Combine(root, "team-ratings"));
        var http = new CountingHttp();

        MovieLensDataException error = Assert.Throws<MovieLensDataException>(
            () => Provider(root, "team-ratings", http).Load("team-ratings", CancellationToken.None));

        Assert.Contains("holds no MovieLens ratings file", error.Message, StringComparison.Ordinal);
        Assert.Contains("Data__Root", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, http.Clients);
    }

    [Fact]
    public void A_release_already_on_disk_is_loaded_without_making_an_http_client()
    {
        string root = ApiHost.TempFolder();
        RatingDataset written = SyntheticMovieLens.Generate(ApiHost.Synthetic);
        SyntheticMovieLens.Write(written, Path.Combine(root, "ml-100k"), MovieLensFormat.Ml100k);
        var http = new CountingHttp();

        RatingDataset data = Provider(root, "ml-100k", http).Load("ml-100k", CancellationToken.None);

        Assert.Equal(written.Fingerprint, data.Fingerprint);
        Assert.Equal(0, http.Clients);
    }

    private sealed class CountingHttp : IHttpClientFactory
    {
        public int Clients { get; private set; }

        public HttpClient CreateClient(string name)
        {
            Clients++;
            throw new InvalidOperationException("The provider must not download here.");
        }
    }
}
