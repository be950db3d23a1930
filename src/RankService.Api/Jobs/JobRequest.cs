using System.Text.Json;
using System.Text.Json.Serialization;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>
/// Body of <c>POST /jobs</c>. Every field is optional: a missing one takes the configured default (section
/// <c>Training</c> of appsettings.json, itself defaulting to the library's measured defaults). Besides the fields
/// below, every training option (<see cref="TrainingOptionCatalog"/>: <c>loss</c>, <c>epochs</c>, ...)
/// is a top-level field, read through the catalog so that none is written out here; the OpenAPI schema lists them.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)] // the fields below are not all: the rest go to Options, checked by the catalog
public sealed record JobRequest
{
    /// <summary>A configured data set name (<c>ml-100k</c>, ...) or <c>synthetic</c> for the built-in offline set.</summary>
    /// <example>synthetic</example>
    public string? Dataset { get; init; }

    /// <summary>
    /// Retrain a model: the id of a job with a checkpoint (GET /models/{id}). Its manifest's training config and its
    /// data set replace the configured defaults; any other field given here still overrides them.
    /// </summary>
    /// <example>null</example>
    public string? FromModel { get; init; }

    /// <summary>
    /// A full training config to start from instead of the configured defaults, e.g. a manifest's <c>training</c>
    /// object from GET /models/{id}; fields given beside it still override it. Not together with <see cref="FromModel"/>.
    /// </summary>
    public JsonElement? Training { get; init; }

    /// <summary>
    /// When the finished model replaces the data set's serving one: <c>if-better</c> (the default: only when it is at
    /// least as good on this run's validation split, both evaluated there), <c>always</c> or <c>never</c>.
    /// </summary>
    /// <example>if-better</example>
    public string? Promote { get; init; }

    /// <summary>
    /// Run a hyperparameter search instead of one job: <c>trials</c> child jobs drawn without repeats from the grid of
    /// <c>space</c>'s values (each over the other fields of this request), seeded by <c>seed</c>; the parent picks the
    /// best on validation NDCG@10 and its metrics list the leaderboard.
    /// </summary>
    public SearchRequest? Search { get; init; }

    /// <summary>
    /// <c>ease</c>: after training, blend the model with EASE (weight and EASE's lambda tuned on validation NDCG@10, both
    /// parts' metrics in the manifest) and serve the blend; <c>none</c> (the default): the two-tower alone. For
    /// catalogues up to Serving:MaxBlendItems items.
    /// </summary>
    /// <example>none</example>
    public string? Blend { get; init; }

    /// <summary>The training options given as top-level fields, by JSON name, as posted.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Options { get; init; }

    /// <summary>The request's own fields (not training options), for messages that list the known fields.</summary>
    public static IReadOnlyList<string> OwnFields { get; } = ["dataset", "fromModel", "training", "promote", "search", "blend"];

    /// <summary>
    /// The request's training options over <paramref name="defaults"/>; a field that is no option or has the wrong
    /// JSON type is added to <paramref name="errors"/> (ranges and choices are checked by <see cref="TrainingOptions.Validate"/>).
    /// </summary>
    public TrainingOptions ToTrainingOptions(TrainingOptions defaults, IDictionary<string, string> errors) =>
        TrainingOptionCatalog.Overlay(defaults, Options ?? [], errors, otherFields: OwnFields);

    /// <summary>
    /// The posted <see cref="Training"/> config over the library's defaults (a JSON null field counts as missing);
    /// null when there is none. Its fields are reported under <c>training.</c>.
    /// </summary>
    public TrainingOptions? PostedTraining(IDictionary<string, string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        switch (Training)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                return null;
            case { ValueKind: JsonValueKind.Object } training:
                return TrainingOptionCatalog.Overlay(new TrainingOptions(), training.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value)),
                    errors, prefix: "training.", hostOnly: true);
            default:
                errors["training"] = "training takes a JSON object: a full training config such as a manifest's training object.";
                return null;
        }
    }
}
