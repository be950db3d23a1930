using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using RankService.Api.Datasets;
using RankService.Api.Extensions;
using RankService.Api.Options;
using RankService.Api.Serving;

namespace RankService.Api.Apis;

/// <summary>A data set as <c>GET /datasets</c> lists it: a file data set (counts unknown until loaded) or a live one.</summary>
/// <param name="Kind"><c>file</c> (a MovieLens folder under Data:Root, read-only) or <c>live</c> (fed through this API).</param>
/// <param name="Version">Live: bumped by every committed write; a job names the version it trained on.</param>
/// <param name="LastFeedbackAt">Live: the latest feedback time, Unix seconds.</param>
public sealed record DatasetView(
    string Name,
    string Kind,
    long? Version = null,
    long? Users = null,
    long? Items = null,
    long? Feedback = null,
    long? LastFeedbackAt = null,
    DateTimeOffset? CreatedAt = null,
    LiveDatasetSettings? Settings = null)
{
    public static DatasetView Live(LiveDatasetInfo i) =>
        new(i.Name, "live", i.Version, i.Users, i.Items, i.Feedback, i.LastFeedbackAt, i.CreatedAt, new LiveDatasetSettings(i.Settings.Types, i.Settings.CreatesItems));

    public static DatasetView File(string name) => new(name, "file");
}

/// <summary>What a committed write did: records inserted or updated (refused is 0: a write with a refused record commits nothing).</summary>
public sealed record DatasetWriteResult(long Inserted, long Updated, long Refused, long Version);

/// <summary>An erased user.</summary>
/// <param name="ServingModels">Serving models of the data set that forgot the user's vector and seen list.</param>
public sealed record ErasedUserView(string Dataset, string UserId, long FeedbackErased, long Version, int ServingModels);

/// <summary>
/// <c>/datasets</c>: file data sets (MovieLens folders) and live data sets kept in the database, fed with items and
/// feedback through JSON batches or streamed CSV/NDJSON imports, exported as NDJSON, and trained on by POST /jobs.
/// </summary>
public static partial class DatasetsApi
{
    /// <summary>Most records of one JSON batch.</summary>
    public const int MaxBatchRecords = 10_000;

    private const int MaxFeedbackTypes = 64;

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();

    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        DataOptions data = app.ServiceProvider.GetRequiredService<IOptions<DataOptions>>().Value;
        RouteGroupBuilder api = app.MapGroup("/datasets").WithTags("Datasets");

        api.MapGet("/", ListDatasets)
            .WithName("ListDatasets")
            .WithSummary("List data sets")
            .WithDescription("The file data sets (Data:Datasets; counts unknown until a job loads them) and the live data sets with their user, item and feedback counts and version.");

        api.MapGet("/{name}", GetDataset)
            .WithName("GetDataset")
            .WithSummary("Get a data set")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("A live data set's users, items, feedback count, version, last feedback time and settings; a file data set's name and kind.");

        api.MapPut("/{name}", PutDataset)
            .WithName("PutDataset")
            .WithSummary("Create a live data set or change its settings")
            .RequireApiKey()
            .ProducesValidationProblem()
            .WithDescription("Body (optional): `{\"feedbackTypes\": {\"purchase\": 3, \"click\": 1, \"dislike\": -1}, \"autoCreateItems\": true}`. A (user, item) pair's label is the summed weight × value of its feedback (value 1 when absent); for the type `rating` the latest rating's value is the label. A negative total means never recommend the item to the user. Default: `{\"rating\": 1}`, items created from feedback. Names: letters, digits, '-', '_', '.', 1 to 64, not a file data set's. 201 when created, 200 when updated (a new version).");

        api.MapDelete("/{name}", DeleteDataset)
            .WithName("DeleteDataset")
            .WithSummary("Delete a live data set")
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithDescription("Deletes the data set with all its items, users and feedback. File data sets are read-only (409). Models already trained on it stay.");

        api.MapPost("/{name}/items", PostItems)
            .WithName("PostItems")
            .WithSummary("Add or update items")
            .RequireApiKey()
            .WithMetadata(new BodyLimit(data.MaxBatchBytes))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("A JSON array of up to 10,000 items `{\"itemId\", \"title\", \"categories\": [..], \"hidden\", \"timestamp\", \"labels\": {..}}`; an existing itemId is updated. All or nothing: 200 once committed, else 400 naming each refused record by index and field.");

        api.MapPost("/{name}/feedback", PostFeedback)
            .WithName("PostFeedback")
            .WithSummary("Add feedback")
            .RequireApiKey()
            .WithMetadata(new BodyLimit(data.MaxBatchBytes))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("A JSON array of up to 10,000 records `{\"userId\", \"itemId\", \"type\", \"value\", \"timestamp\"}` (timestamp: Unix seconds or ISO 8601; type may be left out when the data set declares one). All or nothing: 200 once committed, else 400 naming each refused record by index and field.");

        api.MapPost("/{name}/import", Import)
            .WithName("ImportRecords")
            .WithSummary("Import items or feedback from CSV or NDJSON")
            .RequireApiKey()
            .WithMetadata(new BodyLimit(data.MaxImportBytes))
            .Accepts<string>("text/csv", "application/x-ndjson")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithDescription("`kind=items|feedback`. `text/csv` with a header row naming the columns (a MovieLens ratings.csv or movies.csv imports as it is: movieId, rating and genres are read as itemId, value and categories), or `application/x-ndjson`, one JSON record per line. Streamed, never held whole, up to Data:MaxImportBytes (default 1 GiB). All or nothing: 400 names the first 100 bad lines by number and field; a body that breaks off commits nothing.");

        api.MapGet("/{name}/export", Export)
            .WithName("ExportRecords")
            .WithSummary("Export items or feedback as NDJSON")
            .RequireApiKey()
            .Produces<string>(StatusCodes.Status200OK, "application/x-ndjson")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("`kind=items|feedback`: one JSON record per line in insertion order, read at one version; the same lines import back (POST .../import with application/x-ndjson).");

        api.MapDelete("/{name}/users/{userId}", EraseUser)
            .WithName("EraseUser")
            .WithSummary("Erase a user")
            .RequireApiKey()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("Deletes the user and all their feedback, and drops their vector and seen list from every serving model of the data set at once: later rankings for them answer 404. Older checkpoints on disk still hold the vector until DELETE /models/{id} removes them.");

        return app;
    }

    public static async Task<Ok<List<DatasetView>>> ListDatasets(ILiveDatasetStore store, IOptions<DataOptions> data, CancellationToken cancellationToken)
    {
        List<DatasetView> all = data.Value.Datasets.Select(DatasetView.File).ToList();
        all.AddRange((await store.ListAsync(cancellationToken)).Select(DatasetView.Live));
        return TypedResults.Ok(all);
    }

    public static async Task<Results<Ok<DatasetView>, ProblemHttpResult>> GetDataset(string name, ILiveDatasetStore store, IOptions<DataOptions> data, CancellationToken cancellationToken)
    {
        if (data.Value.IsKnown(name))
        {
            return TypedResults.Ok(DatasetView.File(name));
        }
        return NameProblem(name, data.Value) is null && await store.FindAsync(name, cancellationToken) is { } info
            ? TypedResults.Ok(DatasetView.Live(info))
            : TypedResults.Problem(NotFound(name));
    }

    public static async Task<Results<Created<DatasetView>, Ok<DatasetView>, ValidationProblem>> PutDataset(
        string name, LiveDatasetSettings? settings, ILiveDatasetStore store, IOptions<DataOptions> data, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (NameProblem(name, data.Value) is { } problem)
        {
            errors["name"] = [problem];
        }
        settings ??= LiveDatasetSettings.Default;
        if (settings.FeedbackTypes is { } types)
        {
            if (types.Count is 0 or > MaxFeedbackTypes)
            {
                errors["feedbackTypes"] = [$"feedbackTypes names 1 to {MaxFeedbackTypes} types with their weights, e.g. {{\"purchase\": 3, \"click\": 1, \"dislike\": -1}}."];
            }
            foreach ((string type, double weight) in types)
            {
                if (!NamePattern().IsMatch(type))
                {
                    errors[$"feedbackTypes.{Echo.Of(type)}"] = ["A feedback type is 1 to 64 letters, digits, '-', '_' or '.'."];
                }
                else if (!double.IsFinite(weight))
                {
                    errors[$"feedbackTypes.{type}"] = ["A weight is a finite number."];
                }
            }
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The data set cannot be created with these settings.");
        }
        (LiveDatasetInfo info, bool created) = await store.PutAsync(name, settings, cancellationToken);
        return created ? TypedResults.Created($"/datasets/{name}", DatasetView.Live(info)) : TypedResults.Ok(DatasetView.Live(info));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteDataset(string name, ILiveDatasetStore store, IOptions<DataOptions> data, CancellationToken cancellationToken)
    {
        if (data.Value.IsKnown(name))
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "File data sets are read-only",
                Detail = $"'{name}' is a file data set (Data:Datasets); only live data sets can be deleted.",
                Status = StatusCodes.Status409Conflict,
            });
        }
        return NameProblem(name, data.Value) is null && await store.DeleteAsync(name, cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.Problem(NotFound(name));
    }

    public static Task<IResult> PostItems(string name, HttpContext http, ILiveDatasetStore store, IOptions<DataOptions> data) =>
        PostBatch(name, RecordKind.Items, http, store, data.Value);

    public static Task<IResult> PostFeedback(string name, HttpContext http, ILiveDatasetStore store, IOptions<DataOptions> data) =>
        PostBatch(name, RecordKind.Feedback, http, store, data.Value);

    /// <summary>Reads the whole array (at most 10,000 records), checks every record, then writes them in one transaction.</summary>
    /// <summary>Committed feedback rows count in <c>rankservice_feedback_ingested_total</c>.</summary>
    private static void CountIngested(HttpContext http, string name, RecordKind kind, WriteCounts counts)
    {
        if (kind == RecordKind.Feedback)
        {
            http.RequestServices.GetRequiredService<Metrics.ServiceMetrics>().FeedbackIngested(name, counts.Inserted + counts.Updated);
        }
    }

    private static async Task<IResult> PostBatch(string name, RecordKind kind, HttpContext http, ILiveDatasetStore store, DataOptions data)
    {
        CancellationToken cancellationToken = http.RequestAborted;
        if (await FindLive(name, store, data, cancellationToken) is not { } info)
        {
            return TypedResults.Problem(NotFound(name));
        }
        if (!IsMediaType(http.Request.ContentType, "application/json"))
        {
            return UnsupportedMediaType("A batch is a JSON array (Content-Type: application/json); POST .../import takes CSV and NDJSON.");
        }
        var problems = new ProblemCollector();
        var items = new List<(long, LiveItem)>();
        var feedback = new List<(long, LiveFeedback)>();
        var seen = new Dictionary<object, long>();
        long index = 0;
        try
        {
            await foreach (JsonElement element in JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(http.Request.Body, cancellationToken: cancellationToken))
            {
                if (index == MaxBatchRecords)
                {
                    return TypedResults.Problem(new ProblemDetails
                    {
                        Title = "Too many records",
                        Detail = $"A batch holds at most {MaxBatchRecords} records; send more in several batches, or use POST /datasets/{name}/import.",
                        Status = StatusCodes.Status400BadRequest,
                    });
                }
                if (kind == RecordKind.Items)
                {
                    if (RecordParser.Item(element, index, problems) is { } item && Unique(item.ItemId, index, "itemId", seen, problems))
                    {
                        items.Add((index, item));
                    }
                }
                else if (RecordParser.Feedback(element, index, info.Settings, problems) is { } f
                    && Unique(f with { Value = null }, index, "", seen, problems))
                {
                    feedback.Add((index, f));
                }
                index++;
            }
        }
        catch (JsonException e)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "The body is not a JSON array",
                Detail = $"A batch is a JSON array of records: {e.Message.Split(" Path:")[0]}",
                Status = StatusCodes.Status400BadRequest,
            });
        }
        try
        {
            WriteCounts counts = kind == RecordKind.Items
                ? await store.WriteItemsAsync(name, items.ToAsyncEnumerable(), problems, cancellationToken)
                : await store.WriteFeedbackAsync(name, feedback.ToAsyncEnumerable(), problems, cancellationToken);
            CountIngested(http, name, kind, counts);
            return TypedResults.Ok(new DatasetWriteResult(counts.Inserted, counts.Updated, 0, counts.Version));
        }
        catch (RecordsRefusedException e)
        {
            return Refused(e, "index");
        }
        catch (DatasetNotFoundException)
        {
            return TypedResults.Problem(NotFound(name));
        }
    }

    public static async Task<IResult> Import(string name, HttpContext http, ILiveDatasetStore store, IOptions<DataOptions> options, string? kind = null)
    {
        DataOptions data = options.Value;
        CancellationToken cancellationToken = http.RequestAborted;
        RecordKind? parsed = kind switch { "items" => RecordKind.Items, "feedback" => RecordKind.Feedback, _ => null };
        if (parsed is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = [$"kind must be 'items' or 'feedback'; got '{Echo.Of(kind)}'."] });
        }
        if (await FindLive(name, store, data, cancellationToken) is not { } info)
        {
            return TypedResults.Problem(NotFound(name));
        }
        ImportFormat? format = IsMediaType(http.Request.ContentType, "text/csv") ? ImportFormat.Csv
            : IsMediaType(http.Request.ContentType, "application/x-ndjson") ? ImportFormat.NdJson
            : null;
        if (format is null)
        {
            return UnsupportedMediaType("An import is text/csv (a header row, then one record per line) or application/x-ndjson (one JSON record per line), in UTF-8.");
        }
        var problems = new ProblemCollector();
        Stream body = http.Request.Body;
        try
        {
            WriteCounts counts = parsed == RecordKind.Items
                ? await store.WriteItemsAsync(name, ImportReader.Items(body, format.Value, problems, data.MaxImportBytes, cancellationToken), problems, cancellationToken)
                : await store.WriteFeedbackAsync(name, ImportReader.Feedback(body, format.Value, info.Settings, problems, data.MaxImportBytes, cancellationToken), problems, cancellationToken);
            CountIngested(http, name, parsed.Value, counts);
            return TypedResults.Ok(new DatasetWriteResult(counts.Inserted, counts.Updated, 0, counts.Version));
        }
        catch (RecordsRefusedException e)
        {
            return Refused(e, "line");
        }
        catch (DatasetNotFoundException)
        {
            return TypedResults.Problem(NotFound(name));
        }
        catch (Exception e) when (e is ImportTooLargeException || e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
        {
            return TooLarge(data.MaxImportBytes);
        }
        catch (Exception e) when (e is IOException or BadHttpRequestException or OperationCanceledException)
        {
            // The client stopped sending: the transaction was rolled back, nothing of the body is kept.
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "The body broke off",
                Detail = "The request body ended before it was complete; nothing was imported.",
                Status = StatusCodes.Status400BadRequest,
            });
        }
    }

    public static async Task<IResult> Export(string name, ILiveDatasetStore store, IOptions<DataOptions> data, CancellationToken cancellationToken, string? kind = null)
    {
        if (kind is not ("items" or "feedback"))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = [$"kind must be 'items' or 'feedback'; got '{Echo.Of(kind)}'."] });
        }
        if (await FindLive(name, store, data.Value, cancellationToken) is null)
        {
            return TypedResults.Problem(NotFound(name));
        }
        return TypedResults.Stream(async stream =>
        {
            await using var writer = new Utf8JsonWriter(stream);
            if (kind == "items")
            {
                await WriteLines(writer, stream, store.ExportItemsAsync(name, cancellationToken), WriteItem, cancellationToken);
            }
            else
            {
                await WriteLines(writer, stream, store.ExportFeedbackAsync(name, cancellationToken), WriteFeedback, cancellationToken);
            }
        }, "application/x-ndjson", $"{name}-{kind}.ndjson");
    }

    public static async Task<Results<Ok<ErasedUserView>, ProblemHttpResult>> EraseUser(string name, string userId, ILiveDatasetStore store,
        ModelRegistry registry, IOptions<DataOptions> data, CancellationToken cancellationToken)
    {
        if (await FindLive(name, store, data.Value, cancellationToken) is null)
        {
            return TypedResults.Problem(NotFound(name));
        }
        if (await store.EraseUserAsync(name, userId, cancellationToken) is not { } erased)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "User not found",
                Detail = $"Data set '{name}' has no user '{Echo.Of(userId)}'.",
                Status = StatusCodes.Status404NotFound,
            });
        }
        // Committed first, then forgotten: a ranking in between still answers from the model, never after this returns.
        int forgotten = registry.Find(name)?.Forget(userId) == true ? 1 : 0;
        LiveDatasetInfo after = (await store.FindAsync(name, cancellationToken))!;
        return TypedResults.Ok(new ErasedUserView(name, userId, erased, after.Version, forgotten));
    }

    /// <summary>Why <paramref name="name"/> cannot name a live data set; null when it can.</summary>
    internal static string? NameProblem(string name, DataOptions data) =>
        !NamePattern().IsMatch(name) || name.All(c => c == '.')
            ? $"A data set name is 1 to 64 letters, digits, '-', '_' or '.' (not only dots); got '{Echo.Of(name)}'."
            : data.IsKnown(name) ? $"'{name}' is a file data set (Data:Datasets); choose another name for a live data set."
            : null;

    private static async Task<LiveDatasetInfo?> FindLive(string name, ILiveDatasetStore store, DataOptions data, CancellationToken cancellationToken) =>
        NameProblem(name, data) is null ? await store.FindAsync(name, cancellationToken) : null;

    private static bool Unique(object key, long index, string field, Dictionary<object, long> seen, ProblemCollector problems)
    {
        if (seen.TryAdd(key, index))
        {
            return true;
        }
        problems.Add(index, field, $"The same record is given again (first at index {seen[key]}).");
        return false;
    }

    private static async Task WriteLines<T>(Utf8JsonWriter writer, Stream stream, IAsyncEnumerable<T> records, Action<Utf8JsonWriter, T> write, CancellationToken cancellationToken)
    {
        int pending = 0;
        await foreach (T record in records.WithCancellation(cancellationToken))
        {
            write(writer, record);
            await writer.FlushAsync(cancellationToken);
            writer.Reset();
            await stream.WriteAsync(NewLine, cancellationToken);
            if (++pending == 1000)
            {
                await stream.FlushAsync(cancellationToken);
                pending = 0;
            }
        }
    }

    private static void WriteItem(Utf8JsonWriter w, LiveItem item)
    {
        w.WriteStartObject();
        w.WriteString("itemId", item.ItemId);
        if (item.Title is not null)
        {
            w.WriteString("title", item.Title);
        }
        w.WriteStartArray("categories");
        foreach (string c in item.Categories)
        {
            w.WriteStringValue(c);
        }
        w.WriteEndArray();
        w.WriteBoolean("hidden", item.Hidden);
        if (item.Timestamp is { } t)
        {
            w.WriteNumber("timestamp", t);
        }
        if (item.Labels is { } labels)
        {
            w.WritePropertyName("labels");
            labels.WriteTo(w);
        }
        w.WriteEndObject();
    }

    private static void WriteFeedback(Utf8JsonWriter w, LiveFeedback f)
    {
        w.WriteStartObject();
        w.WriteString("userId", f.UserId);
        w.WriteString("itemId", f.ItemId);
        w.WriteString("type", f.Type);
        if (f.Value is { } v)
        {
            w.WriteNumber("value", v);
        }
        if (f.Timestamp is { } t)
        {
            w.WriteNumber("timestamp", t);
        }
        w.WriteEndObject();
    }

    private static bool IsMediaType(string? contentType, string expected) =>
        MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? media)
        && media.MediaType.Equals(expected, StringComparison.OrdinalIgnoreCase)
        && (media.Charset.Length == 0 || media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private static ProblemHttpResult Refused(RecordsRefusedException e, string position) => TypedResults.Problem(new ProblemDetails
    {
        Title = "Records refused",
        Detail = e.Message,
        Status = StatusCodes.Status400BadRequest,
        Extensions =
        {
            ["refused"] = e.Refused,
            ["problems"] = e.Problems.Select(p => new Dictionary<string, object> { [position] = p.Line, ["field"] = p.Field, ["message"] = p.Message }).ToList(),
        },
    });

    private static ProblemHttpResult TooLarge(long limit) => TypedResults.Problem(new ProblemDetails
    {
        Title = "The request body is too large",
        Detail = $"An import is at most {limit} bytes (Data:MaxImportBytes); nothing was imported. Split the file, or raise the setting.",
        Status = StatusCodes.Status413PayloadTooLarge,
    });

    private static ProblemHttpResult UnsupportedMediaType(string detail) => TypedResults.Problem(new ProblemDetails
    {
        Title = "The body's media type is not supported",
        Detail = detail,
        Status = StatusCodes.Status415UnsupportedMediaType,
    });

    internal static ProblemDetails NotFound(string name) => new()
    {
        Title = "Data set not found",
        Detail = $"There is no data set '{Echo.Of(name)}'. GET /datasets lists them; PUT /datasets/{{name}} creates a live one.",
        Status = StatusCodes.Status404NotFound,
    };

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();

    /// <summary>This endpoint's own body limit, applied by <see cref="SecurityExtensions.UseRequestBodyLimit"/> instead of the global one.</summary>
    private sealed class BodyLimit(long bytes) : IRequestSizeLimitMetadata
    {
        public long? MaxRequestBodySize => bytes;
    }
}
