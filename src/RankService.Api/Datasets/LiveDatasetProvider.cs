using System.Diagnostics;
using RankService.Api.Jobs;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Api.Datasets;

/// <summary>
/// A job's data: a live data set's snapshot at its current version (read in one read transaction, so feedback arriving
/// while the job trains never mixes in), or else a file data set through <see cref="MovieLensDatasetProvider"/>.
/// </summary>
public sealed class LiveDatasetProvider(MovieLensDatasetProvider files, ILiveDatasetStore store, ILogger<LiveDatasetProvider> logger) : IDatasetProvider
{
    public RatingDataset Load(string name, CancellationToken cancellationToken) => Load(name, options: null, cancellationToken);

    public RatingDataset Load(string name, TrainingOptions? options, CancellationToken cancellationToken)
    {
        if (files.IsFileDataset(name))
        {
            return files.Load(name, cancellationToken);
        }
        var clock = Stopwatch.StartNew();
        LiveSnapshot snapshot = store.ReadSnapshotAsync(name, cancellationToken).GetAwaiter().GetResult()
            ?? throw new MovieLensDataException($"There is no data set '{Apis.Echo.Of(name)}' (it may have been deleted since the job was queued).");
        double seconds = clock.Elapsed.TotalSeconds;
        logger.LogInformation("Job data: read snapshot {Dataset} at version {Version}: {Pairs} pairs, {Users} users, {Items} items in {Seconds:F1} s",
            name, snapshot.Version, snapshot.Pairs.Length, snapshot.Users.Length, snapshot.Items.Length, seconds);
        if (options?.Protocol == SplitProtocol.Temporal && !snapshot.AllTimed)
        {
            throw new MovieLensDataException(
                $"The temporal protocol splits each user's feedback by time, but live data set '{name}' has (user, item) pairs without any timestamp at version {snapshot.Version}. Send timestamps with the feedback, or train with \"protocol\": \"recbole\".");
        }
        return SnapshotDataset.ToRatingDataset(snapshot);
    }
}
