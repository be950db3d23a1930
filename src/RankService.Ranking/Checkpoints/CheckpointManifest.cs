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

    /// <summary>The served blend with EASE, when the run asked for one; null for the two-tower alone.</summary>
    public BlendManifest? Blend { get; init; }
}

/// <summary>
/// A blend served in place of the two-tower alone (<see cref="Ensembles.ScoreBlend"/>): <c>w * z(two-tower) + (1 - w) *
/// z(EASE)</c> with per-user standardised scores, w and EASE's λ tuned on validation NDCG@10. The EASE weights are
/// <see cref="EaseFile"/> (int32 item count, then n × n float32 little-endian), checked by <see cref="EaseSha256"/>.
/// </summary>
/// <param name="Kind">What the two-tower is blended with: <c>ease</c>.</param>
/// <param name="Weight">w, the two-tower's weight (EASE gets 1 - w).</param>
/// <param name="EaseLambda">EASE's L2 penalty λ, chosen on validation.</param>
/// <param name="TwoTower">The two-tower alone: validation and test metrics.</param>
/// <param name="Ease">EASE alone.</param>
/// <param name="Blended">The blend.</param>
/// <param name="EaseFile">The EASE weights' file beside the manifest.</param>
/// <param name="EaseSha256">Its SHA-256, checked on every load.</param>
public sealed record BlendManifest(
    string Kind,
    double Weight,
    double EaseLambda,
    BlendPartMetrics TwoTower,
    BlendPartMetrics Ease,
    BlendPartMetrics Blended,
    string EaseFile,
    string EaseSha256);

/// <summary>Validation and test metrics of one part of a blend, or of the blend.</summary>
public sealed record BlendPartMetrics(IReadOnlyDictionary<string, double> Validation, IReadOnlyDictionary<string, double> Test);

/// <summary>Raw MovieLens ids in dense-index order, and titles, so a checkpoint scores without the data set.</summary>
public sealed record CheckpointIds(IReadOnlyList<long> UserIds, IReadOnlyList<long> ItemIds, IReadOnlyList<string> Titles);
