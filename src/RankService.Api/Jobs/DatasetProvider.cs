using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Data;

namespace RankService.Api.Jobs;

/// <summary>Loads a data set by its configured name for a training job.</summary>
public interface IDatasetProvider
{
    /// <summary>Throws <see cref="MovieLensDataException"/> with a message for the user when the data cannot be had.</summary>
    RatingDataset Load(string name, CancellationToken cancellationToken);

    /// <summary>As <see cref="Load(string, CancellationToken)"/>, refusing data the job's options cannot use (a live data set without times under the temporal protocol).</summary>
    RatingDataset Load(string name, RankService.Ranking.Training.TrainingOptions options, CancellationToken cancellationToken) => Load(name, cancellationToken);
}

/// <summary>
/// <c>synthetic</c> is generated from <see cref="SyntheticDataOptions"/>; any other name is the folder
/// <c>{Data:Root}/{name}</c>, loaded by the shared <see cref="DatasetLoader"/> (downloaded there first when it holds no
/// ratings file, is a known release and <c>Data:Download</c> is on).
/// </summary>
public sealed class MovieLensDatasetProvider(IOptions<DataOptions> options, IHttpClientFactory http) : IDatasetProvider
{
    /// <summary>A configured file data set (Data:Datasets, <c>synthetic</c> included); any other name may be a live one.</summary>
    public bool IsFileDataset(string name) => options.Value.IsKnown(name);

    public RatingDataset Load(string name, CancellationToken cancellationToken)
    {
        DataOptions o = options.Value;
        SyntheticDataOptions s = o.SyntheticSet;
        var load = new DatasetLoadOptions
        {
            Synthetic = new SyntheticOptions
            {
                Users = s.Users,
                Items = s.Items,
                MinRatingsPerUser = s.MinRatingsPerUser,
                MaxRatingsPerUser = s.MaxRatingsPerUser,
                Seed = s.Seed,
            },
            Download = o.Download,
            SkipMalformedLines = o.SkipMalformedLines,
            MissingHint = $"Data:Download turns downloads of known releases on; Data:Root (env Data__Root) is the folder that must hold {Apis.Echo.Of(name)}/.",
        };
        if (name == DataOptions.Synthetic)
        {
            return DatasetLoader.LoadAsync(name, load, cancellationToken: cancellationToken).GetAwaiter().GetResult();
        }
        // Second line of defence behind request validation: only a configured name, and only a folder inside the root.
        string root = Path.TrimEndingDirectorySeparator(o.FullRoot);
        string folder = Path.GetFullPath(Path.Combine(root, name));
        if (!o.IsKnown(name) || Path.GetDirectoryName(folder) != root)
        {
            throw new MovieLensDataException(
                $"Data set '{Apis.Echo.Of(name)}' is not a folder directly inside the data root {root}; a data set is one of Data:Datasets, a plain folder name.");
        }
        // The client is made only when a download will happen, so a load from disk never needs the network set up.
        using HttpClient? client = o.Download && DatasetLoader.IsDownloadable(folder) ? http.CreateClient(nameof(MovieLensDatasetProvider)) : null;
        return DatasetLoader.LoadAsync(folder, load, client, cancellationToken).GetAwaiter().GetResult();
    }
}
