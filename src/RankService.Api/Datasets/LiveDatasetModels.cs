using System.Text.Json;
using System.Text.Json.Serialization;

namespace RankService.Api.Datasets;

/// <summary>
/// A live data set's settings (body of <c>PUT /datasets/{name}</c>). A feedback record of type T adds
/// <c>FeedbackTypes[T] × value</c> (value 1 when absent) to its (user, item) pair's label; for the type <c>rating</c>
/// the latest rating of the pair counts (a re-rating replaces the earlier one) and the value is required.
/// </summary>
/// <param name="FeedbackTypes">Type name to weight, e.g. <c>{"purchase": 3, "click": 1, "dislike": -1}</c>; default <c>{"rating": 1}</c>.</param>
/// <param name="AutoCreateItems">Feedback for an item not yet in the catalogue creates it (bare, no title); when false it is refused.</param>
public sealed record LiveDatasetSettings(IReadOnlyDictionary<string, double>? FeedbackTypes = null, bool? AutoCreateItems = null)
{
    public const string RatingType = "rating";

    public static readonly LiveDatasetSettings Default = new(new Dictionary<string, double> { [RatingType] = 1 }, true);

    [JsonIgnore]
    public IReadOnlyDictionary<string, double> Types => FeedbackTypes ?? Default.FeedbackTypes!;

    [JsonIgnore]
    public bool CreatesItems => AutoCreateItems ?? true;

    /// <summary>The feedback types that count as a positive event (weight above 0; <c>rating</c> counts when its value is).</summary>
    public IReadOnlyList<string> PositiveTypes() => [.. Types.Where(t => t.Value > 0).Select(t => t.Key).Order(StringComparer.Ordinal)];
}

/// <summary>An item of a live data set's catalogue.</summary>
/// <param name="ItemId">1 to 256 characters, no control characters, no '/'.</param>
/// <param name="Categories">Never null on the way out; empty when none.</param>
/// <param name="Hidden">Never recommended.</param>
/// <param name="Timestamp">When it was published, Unix seconds.</param>
/// <param name="Labels">Free JSON object, stored and returned, not used by training yet.</param>
public sealed record LiveItem(string ItemId, string? Title, IReadOnlyList<string> Categories, bool Hidden, long? Timestamp, JsonElement? Labels);

/// <summary>One feedback event.</summary>
/// <param name="Value">The rating for type <c>rating</c>; a multiplier of the type's weight (default 1) otherwise.</param>
/// <param name="Timestamp">Unix seconds; null when the record had none.</param>
public sealed record LiveFeedback(string UserId, string ItemId, string Type, double? Value, long? Timestamp);

/// <summary>What <c>GET /datasets/{name}</c> answers for a live data set.</summary>
/// <param name="Version">Bumped by every committed write; a job names the version it trained on.</param>
/// <param name="LastFeedbackAt">The latest feedback timestamp, Unix seconds; null without timed feedback.</param>
public sealed record LiveDatasetInfo(
    string Name,
    long Version,
    long Users,
    long Items,
    long Feedback,
    long? LastFeedbackAt,
    DateTimeOffset CreatedAt,
    LiveDatasetSettings Settings);

/// <summary>A refused record: its line (1-based in an import, 0-based index in a JSON array), field and why.</summary>
public sealed record RecordProblem(long Line, string Field, string Message);

/// <summary>How many records one committed write inserted or updated, and the data set's version it made.</summary>
public sealed record WriteCounts(long Inserted, long Updated, long Version);

/// <summary>Which records an import or batch holds.</summary>
public enum RecordKind
{
    Items,
    Feedback,
}

/// <summary>
/// A live data set read in one consistent read transaction at <see cref="Version"/>: plain arrays, no training types.
/// Users and items are in first-insertion order; <see cref="Pairs"/> are the (user, item) pairs with a positive
/// label in the order of each pair's first feedback; <see cref="NeverRecommend"/> the pairs whose labels summed below 0.
/// </summary>
public sealed class LiveSnapshot
{
    public required string Name { get; init; }
    public required long Version { get; init; }
    public required string[] Users { get; init; }
    public required LiveItem[] Items { get; init; }
    public required SnapshotPair[] Pairs { get; init; }
    public required SnapshotPair[] NeverRecommend { get; init; }

    /// <summary>False when some positive pair has no timestamp: the temporal protocol cannot split it.</summary>
    public required bool AllTimed { get; init; }
}

/// <summary>A (user, item) pair by index into <see cref="LiveSnapshot.Users"/> and <see cref="LiveSnapshot.Items"/>.</summary>
/// <param name="Label">The summed weight (for ratings, the latest rating).</param>
/// <param name="Timestamp">The pair's latest feedback time, Unix seconds; null when none of its feedback had one.</param>
public readonly record struct SnapshotPair(int User, int Item, float Label, long? Timestamp);

/// <summary>A write refused as a whole: the problems are the client's (400), nothing was committed.</summary>
public sealed class RecordsRefusedException(IReadOnlyList<RecordProblem> problems, long refused, string detail) : Exception(detail)
{
    public IReadOnlyList<RecordProblem> Problems { get; } = problems;

    /// <summary>All refused records, of which <see cref="Problems"/> names the first 100.</summary>
    public long Refused { get; } = refused;
}

/// <summary>The data set named does not exist (404).</summary>
public sealed class DatasetNotFoundException(string name) : Exception($"There is no live data set '{name}'.")
{
    public string Name { get; } = name;
}
