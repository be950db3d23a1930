using System.IO.Compression;

namespace RankService.Ranking.Data;

/// <summary>
/// Makes sure a MovieLens release is on disk: uses <c>{dataRoot}/{name}</c> when it already holds one, otherwise
/// downloads the zip from GroupLens and unpacks it there. Offline machines get a message saying where to put the files.
/// </summary>
public static class MovieLensDownloader
{
    public const string BaseUrl = "https://files.grouplens.org/datasets/movielens/";

    /// <summary>Releases we know how to fetch, with the files that show they are unpacked.</summary>
    public static IReadOnlyDictionary<string, MovieLensFormat> KnownReleases { get; } = new Dictionary<string, MovieLensFormat>
    {
        ["ml-100k"] = MovieLensFormat.Ml100k,
        ["ml-1m"] = MovieLensFormat.Ml1m,
        ["ml-latest-small"] = MovieLensFormat.Csv,
        ["ml-25m"] = MovieLensFormat.Csv,
    };

    public static async Task<string> EnsureAsync(string dataRoot, string name = "ml-100k", HttpClient? http = null,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataRoot);
        ArgumentNullException.ThrowIfNull(name);
        string folder = Path.GetFullPath(Path.Combine(dataRoot, name));
        if (Directory.Exists(folder) && MovieLensLoader.DetectFormat(folder) is not null)
        {
            return folder; // also for releases we cannot fetch ourselves, such as ml-10m put there by hand
        }
        if (!KnownReleases.TryGetValue(name, out MovieLensFormat format))
        {
            throw new MovieLensDataException(
                $"Unknown MovieLens release '{name}' and no ratings file in {folder}; known releases: {string.Join(", ", KnownReleases.Keys)}.");
        }

        Uri url = new(BaseUrl + name + ".zip");
        string zip = Path.Combine(Path.GetTempPath(), $"{name}-{Guid.NewGuid():N}.zip");
        string staging = Path.Combine(Path.GetFullPath(dataRoot), $".{name}-{Guid.NewGuid():N}.partial");
        bool ownClient = http is null;
        http ??= new HttpClient();
        try
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                response.EnsureSuccessStatusCode();
                await using var file = new FileStream(zip, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
                await response.Content.CopyToAsync(file, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or IOException
                || (e is TaskCanceledException && !ct.IsCancellationRequested)) // HttpClient's timeout
            {
                throw new MovieLensDataException(OfflineMessage(url, folder, format, e), e);
            }

            // Unpack beside the target and move it in whole, so a failed extraction never looks like a release.
            Directory.CreateDirectory(staging);
            try
            {
                ZipFile.ExtractToDirectory(zip, staging);
            }
            catch (InvalidDataException e)
            {
                throw new MovieLensDataException($"{url} did not give a valid zip archive ({e.Message}). {ManualStep(folder, format)}", e);
            }
            string unpacked = Path.Combine(staging, name);
            if (!Directory.Exists(unpacked) || MovieLensLoader.DetectFormat(unpacked) != format)
            {
                throw new MovieLensDataException(
                    $"{url} does not hold {name}/{MovieLensLayout.RatingsFile(format)} as expected. {ManualStep(folder, format)}");
            }
            if (!Directory.Exists(folder))
            {
                Directory.Move(unpacked, folder);
                return folder;
            }
            // The folder exists without a ratings file (checked above): add the release's files, never replacing the user's.
            foreach (string entry in Directory.EnumerateFileSystemEntries(unpacked))
            {
                string target = Path.Combine(folder, Path.GetFileName(entry));
                if (Path.Exists(target))
                {
                    continue;
                }
                if (File.Exists(entry))
                {
                    File.Move(entry, target);
                }
                else
                {
                    Directory.Move(entry, target);
                }
            }
            return folder;
        }
        finally
        {
            if (ownClient)
            {
                http.Dispose();
            }
            File.Delete(zip);
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    private static string OfflineMessage(Uri url, string folder, MovieLensFormat format, Exception e) =>
        e is HttpRequestException { StatusCode: { } status }
            ? $"Could not download {url}: the server answered {(int)status} {status}. {ManualStep(folder, format)}"
            : $"Could not download {url} ({e.Message}); this machine seems to be offline. {ManualStep(folder, format)}";

    private static string ManualStep(string folder, MovieLensFormat format)
    {
        string name = Path.GetFileName(folder);
        string ratings = MovieLensLayout.RatingsFile(format);
        string movies = MovieLensLayout.MoviesFile(format);
        return $"Download {name}.zip from https://grouplens.org/datasets/movielens/ and unzip it so that " +
               $"{Path.Combine(folder, ratings)} exists (needed: {ratings}; optional: {movies} for titles).";
    }
}
