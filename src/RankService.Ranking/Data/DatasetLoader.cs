namespace RankService.Ranking.Data;

/// <summary>How <see cref="DatasetLoader"/> gets a data set: the synthetic set's size, downloads, parsing, messages.</summary>
public sealed record DatasetLoadOptions
{
    /// <summary>Size and seed of the data set named <see cref="DatasetLoader.Synthetic"/>.</summary>
    public SyntheticOptions Synthetic { get; init; } = new();

    /// <summary>Whether a known release missing from its folder may be downloaded there.</summary>
    public bool Download { get; init; } = true;

    public bool SkipMalformedLines { get; init; }

    /// <summary>The caller's own advice, added to a "no data there" message (the API names its settings here).</summary>
    public string? MissingHint { get; init; }

    /// <summary>Told before a download starts, since it may take minutes.</summary>
    public Action<string>? Progress { get; init; }
}

/// <summary>
/// The one way a data set is found by name, for the CLI and the API: <see cref="Synthetic"/> is generated, anything
/// else is a MovieLens folder. A folder is downloaded into only when it holds no ratings file, its name is a release
/// we can fetch and downloads are allowed; a folder of the user's own is never downloaded into, and files already in a
/// folder are kept.
/// </summary>
public static class DatasetLoader
{
    public const string Synthetic = "synthetic";

    public static bool IsSynthetic(string data) => string.Equals(data, Synthetic, StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="folder"/> holds no MovieLens ratings file and its name is a release we can fetch.</summary>
    public static bool IsDownloadable(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        return !File.Exists(full)
            && (!Directory.Exists(full) || MovieLensLoader.DetectFormat(full) is null)
            && MovieLensDownloader.KnownReleases.ContainsKey(Path.GetFileName(full));
    }

    /// <summary>
    /// Loads <paramref name="data"/> (<see cref="Synthetic"/> or a folder path). Throws <see cref="MovieLensDataException"/>
    /// with a message for the user when the data cannot be had. <paramref name="http"/> is used for a download (a
    /// client of its own when null).
    /// </summary>
    public static async Task<RatingDataset> LoadAsync(string data, DatasetLoadOptions? options = null, HttpClient? http = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(data);
        options ??= new DatasetLoadOptions();
        if (IsSynthetic(data))
        {
            return SyntheticMovieLens.Generate(options.Synthetic);
        }
        string folder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(data));
        string name = Path.GetFileName(folder);
        if (Directory.Exists(folder) && MovieLensLoader.DetectFormat(folder) is not null)
        {
            return Read(folder, options);
        }
        if (File.Exists(folder))
        {
            throw Missing($"{folder} is a file; a data set is a folder holding a MovieLens ratings file.", options);
        }
        if (!IsDownloadable(folder))
        {
            throw Missing(
                $"{folder} holds no MovieLens ratings file: expected u.data (ml-100k), ratings.dat (ml-1m, ml-10m) or " +
                $"ratings.csv (ml-latest-small, ml-20m, ml-25m) in that folder. Only a folder named after a release " +
                $"({string.Join(", ", MovieLensDownloader.KnownReleases.Keys)}) is downloaded.", options);
        }
        if (!options.Download)
        {
            throw Missing($"Data set '{name}' is not in {folder} and downloads are off: put the files there.", options);
        }
        options.Progress?.Invoke(Directory.Exists(folder)
            ? $"{folder} holds no ratings file; downloading {name} from GroupLens into it (files there are kept)..."
            : $"{folder} is missing; downloading {name} from GroupLens...");
        string root = Path.GetDirectoryName(folder) ?? throw Missing($"{folder} has no parent folder to download into.", options);
        folder = await MovieLensDownloader.EnsureAsync(root, name, http, cancellationToken).ConfigureAwait(false);
        return Read(folder, options);
    }

    private static RatingDataset Read(string folder, DatasetLoadOptions options) =>
        MovieLensLoader.Load(folder, new MovieLensLoadOptions { SkipMalformedLines = options.SkipMalformedLines });

    private static MovieLensDataException Missing(string message, DatasetLoadOptions options) =>
        new(options.MissingHint is null ? message : $"{message} {options.MissingHint}");
}
