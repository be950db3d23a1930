using RankService.Ranking.Data;
using RankService.Ranking.Model;
using RankService.Ranking.Training;

namespace RankService.Ranking.Checkpoints;

/// <summary>
/// The data a checkpoint was trained on: enough to refuse scoring against different data. <c>Version</c> is the
/// live data set's snapshot version the run trained on; null for file data sets.
/// </summary>
public sealed record DatasetInfo(string Name, string Format, string Fingerprint, int Users, int Items, int Ratings, string? Version = null);

/// <summary>
/// The JSON beside a checkpoint's weights: how to rebuild the model, what it scored, and on which data.
/// The weights and the id map are named by file and SHA-256, so a load can verify both.
/// </summary>
public sealed record CheckpointManifest
{
    /// <summary>
    /// 2: string ids and item metadata in the id file, never-recommend lists (<see cref="NeverRecommendFile"/>).
    /// 1: integer ids and titles only; still read (ids become their decimal strings).
    /// </summary>
    public const int CurrentFormat = 2;

    public int Format { get; init; } = CurrentFormat;
    public string LibraryVersion { get; init; } = typeof(CheckpointManifest).Assembly.GetName().Version?.ToString() ?? "0.0.0";
    public required string Tag { get; init; }
    public required int Epoch { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DatasetInfo Dataset { get; init; }
    public required ModelOptions Model { get; init; }
    public required TrainingOptions Training { get; init; }
    public required IReadOnlyDictionary<string, double> Validation { get; init; }
    public IReadOnlyDictionary<string, double>? Test { get; init; }
    public required string WeightsFile { get; init; }
    public required string WeightsSha256 { get; init; }
    public required string IdsFile { get; init; }
    public required string IdsSha256 { get; init; }

    /// <summary>Every rated item per user (<see cref="SeenItems"/>), for leaving them out of served rankings.</summary>
    public string? SeenFile { get; init; }
    public string? SeenSha256 { get; init; }

    /// <summary>Items never to recommend per user (<see cref="NeverRecommendLists"/>); null when there are none.</summary>
    public string? NeverRecommendFile { get; init; }
    public string? NeverRecommendSha256 { get; init; }
}

/// <summary>
/// User and item ids in dense-index order, and the items' metadata, so a checkpoint scores and serves without the
/// data set. Format 1 files had integer ids and titles only: read, their ids are decimal strings and the item
/// metadata lists are null.
/// </summary>
public sealed record CheckpointIds(IReadOnlyList<string> UserIds, IReadOnlyList<string> ItemIds, IReadOnlyList<string> Titles)
{
    /// <summary>Per item its categories; null in format 1.</summary>
    public IReadOnlyList<IReadOnlyList<string>>? Categories { get; init; }

    /// <summary>Per item whether it is hidden (never recommended); null in format 1.</summary>
    public IReadOnlyList<bool>? Hidden { get; init; }

    /// <summary>Per item its published time (Unix seconds) or null; null in format 1.</summary>
    public IReadOnlyList<long?>? Timestamps { get; init; }

    /// <summary>The id file of a data set: ids, titles, categories, hidden flags and timestamps.</summary>
    public static CheckpointIds Of(RatingDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new CheckpointIds(data.Users.Ids, data.Items.Ids, data.Catalogue.Select(i => i.Title).ToArray())
        {
            Categories = data.Catalogue.Select(i => i.Categories).ToArray(),
            Hidden = data.Catalogue.Select(i => i.Hidden).ToArray(),
            Timestamps = data.Catalogue.Select(i => i.Timestamp).ToArray(),
        };
    }

    /// <summary>Item <paramref name="index"/> as a record (no categories, not hidden, no time where format 1 has none).</summary>
    public Item Item(int index) => new(ItemIds[index], Titles[index], Categories?[index] ?? [], Hidden?[index] ?? false, Timestamps?[index]);
}

/// <summary>Format 1's id file: raw MovieLens integer ids and titles.</summary>
internal sealed record CheckpointIdsFormat1(IReadOnlyList<long> UserIds, IReadOnlyList<long> ItemIds, IReadOnlyList<string> Titles)
{
    public CheckpointIds ToCurrent() =>
        new(UserIds.Select(ExternalId.Of).ToArray(), ItemIds.Select(ExternalId.Of).ToArray(), Titles);
}
