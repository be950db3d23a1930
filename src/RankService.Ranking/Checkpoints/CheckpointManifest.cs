using RankService.Ranking.Model;
using RankService.Ranking.Training;

namespace RankService.Ranking.Checkpoints;

/// <summary>The data a checkpoint was trained on: enough to refuse scoring against different data.</summary>
public sealed record DatasetInfo(string Name, string Format, string Fingerprint, int Users, int Items, int Ratings);

/// <summary>
/// The JSON beside a checkpoint's weights: how to rebuild the model, what it scored, and on which data.
/// The weights and the id map are named by file and SHA-256, so a load can verify both.
/// </summary>
public sealed record CheckpointManifest
{
    public const int CurrentFormat = 1;

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
}

/// <summary>Raw MovieLens ids in dense-index order, and titles, so a checkpoint scores without the data set.</summary>
public sealed record CheckpointIds(IReadOnlyList<long> UserIds, IReadOnlyList<long> ItemIds, IReadOnlyList<string> Titles);
