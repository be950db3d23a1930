using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Data;

namespace RankService.Api.Jobs;

/// <summary>Loads a data set by its configured name for a training job.</summary>
public interface IDatasetProvider
{
    /// <summary>Throws <see cref="MovieLensDataException"/> with a message for the user when the data cannot be had.</summary>
    RatingDataset Load(string name, CancellationToken cancellationToken);
}

/// <summary>
/// <c>synthetic</c> is generated from <see cref="SyntheticDataOptions"/>; any other name is the folder
/// <c>{Data:Root}/{name}</c>, downloaded there first when it is missing, known and <c>Data:Download</c> is on.
/// </summary>
public sealed class MovieLensDatasetProvider(IOptions<DataOptions> options, IHttpClientFactory http) : IDatasetProvider
{
    public RatingDataset Load(string name, CancellationToken cancellationToken)
    {
        DataOptions o = options.Value;
        if (name == DataOptions.Synthetic)
        {
            SyntheticDataOptions s = o.SyntheticSet;
            return SyntheticMovieLens.Generate(new SyntheticOptions
            {
                Users = s.Users,
                Items = s.Items,
                MinRatingsPerUser = s.MinRatingsPerUser,
                MaxRatingsPerUser = s.MaxRatingsPerUser,
                Seed = s.Seed,
            });
        }
        // Second line of defence behind request validation: only a configured name, and only a folder inside the root.
        string root = Path.TrimEndingDirectorySeparator(o.FullRoot);
        string folder = Path.GetFullPath(Path.Combine(root, name));
        if (!o.IsKnown(name) || Path.GetDirectoryName(folder) != root)
        {
            throw new MovieLensDataException(
                $"Data set '{Apis.Echo.Of(name)}' is not a folder directly inside the data root {root}; a data set is one of Data:Datasets, a plain folder name.");
        }
        if (!Directory.Exists(folder) || MovieLensLoader.DetectFormat(folder) is null)
        {
            if (!o.Download)
            {
                throw new MovieLensDataException(
                    $"Data set '{name}' is not in {folder} and downloads are off (Data:Download): put the files there or point Data:Root (env Data__Root) at a folder that holds {name}/.");
            }
            using HttpClient client = http.CreateClient(nameof(MovieLensDatasetProvider));
            folder = MovieLensDownloader.EnsureAsync(o.FullRoot, name, client, cancellationToken).GetAwaiter().GetResult();
        }
        return MovieLensLoader.Load(folder, new MovieLensLoadOptions { SkipMalformedLines = o.SkipMalformedLines });
    }
}
