using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary><c>GET /datasets</c>: the file data sets and the live ones with their counts and version.</summary>
    public Task<IReadOnlyList<DatasetInfo>> ListDatasetsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<IReadOnlyList<DatasetInfo>>("datasets", cancellationToken);

    /// <summary><c>GET /datasets/{name}</c>; 404 for a name the service does not know.</summary>
    public Task<DatasetInfo> GetDatasetAsync(string name, CancellationToken cancellationToken = default) =>
        GetAsync<DatasetInfo>($"datasets/{Segment(name)}", cancellationToken);

    /// <summary>
    /// <c>PUT /datasets/{name}</c> (needs a key): creates a live data set, or changes its settings (a new version);
    /// <paramref name="settings"/> null takes the service's defaults (<c>{"rating": 1}</c>, items created from feedback).
    /// </summary>
    public Task<DatasetInfo> PutDatasetAsync(string name, DatasetSettings? settings = null, CancellationToken cancellationToken = default) =>
        SendAsync<DatasetInfo>(new HttpRequestMessage(HttpMethod.Put, Relative($"datasets/{Segment(name)}"))
        {
            Content = settings is null ? null : JsonContent.Create(settings, options: RequestJson),
        }, cancellationToken);

    /// <summary><c>DELETE /datasets/{name}</c> (needs a key): a live data set with all its records; a file data set is a 409.</summary>
    public Task DeleteDatasetAsync(string name, CancellationToken cancellationToken = default) =>
        SendEmptyAsync(new HttpRequestMessage(HttpMethod.Delete, Relative($"datasets/{Segment(name)}")), cancellationToken);

    /// <summary><c>POST /datasets/{name}/items</c> (needs a key): up to 10,000 items, added or updated all or nothing.</summary>
    public Task<DatasetWrite> AddItemsAsync(string name, IEnumerable<ItemRecord> items, CancellationToken cancellationToken = default) =>
        PostRecordsAsync($"datasets/{Segment(name)}/items", items, cancellationToken);

    /// <summary><c>POST /datasets/{name}/feedback</c> (needs a key): up to 10,000 feedback records, all or nothing.</summary>
    public Task<DatasetWrite> AddFeedbackAsync(string name, IEnumerable<FeedbackRecord> feedback, CancellationToken cancellationToken = default) =>
        PostRecordsAsync($"datasets/{Segment(name)}/feedback", feedback, cancellationToken);

    /// <summary>
    /// <c>POST /datasets/{name}/import</c> (needs a key): streams <paramref name="content"/> (CSV with a header row, or
    /// NDJSON, in UTF-8) to the service without holding it; all or nothing. The client does not dispose the stream.
    /// </summary>
    public Task<DatasetWrite> ImportAsync(string name, RecordKind kind, Stream content, ImportFormat format, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var body = new StreamContent(new NonDisposingStream(content));
        body.Headers.ContentType = new MediaTypeHeaderValue(format switch
        {
            ImportFormat.Csv => "text/csv",
            ImportFormat.NdJson => "application/x-ndjson",
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
        }) { CharSet = "utf-8" };
        return SendAsync<DatasetWrite>(new HttpRequestMessage(HttpMethod.Post, Relative($"datasets/{Segment(name)}/import?kind={Kind(kind)}")) { Content = body },
            cancellationToken);
    }

    /// <summary>
    /// <c>GET /datasets/{name}/export</c> (needs a key): copies the NDJSON export (one record a line, at one version) into
    /// <paramref name="destination"/> as it streams; the same lines import back with <see cref="ImportFormat.NdJson"/>.
    /// </summary>
    public async Task ExportAsync(string name, RecordKind kind, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        using HttpResponseMessage response = await SendRawAsync(
            new HttpRequestMessage(HttpMethod.Get, Relative($"datasets/{Segment(name)}/export?kind={Kind(kind)}")), cancellationToken).ConfigureAwait(false);
        await response.Content.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>DELETE /datasets/{name}/users/{userId}</c> (needs a key): the user, their feedback and their vectors in the serving models.</summary>
    public Task<ErasedUser> EraseUserAsync(string name, string userId, CancellationToken cancellationToken = default) =>
        DeleteAsync<ErasedUser>($"datasets/{Segment(name)}/users/{Segment(userId)}", cancellationToken);

    private Task<DatasetWrite> PostRecordsAsync<TRecord>(string path, IEnumerable<TRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        return SendAsync<DatasetWrite>(new HttpRequestMessage(HttpMethod.Post, Relative(path)) { Content = JsonContent.Create(records.ToList(), options: RequestJson) },
            cancellationToken);
    }

    private static string Kind(RecordKind kind) => kind switch
    {
        RecordKind.Items => "items",
        RecordKind.Feedback => "feedback",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>Lets the request own its content without closing the caller's stream.</summary>
    private sealed class NonDisposingStream(Stream inner) : Stream
    {
        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.ReadAsync(buffer, offset, count, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Which records an import or export carries.</summary>
public enum RecordKind
{
    Items,
    Feedback,
}

/// <summary>The body of an import: <c>text/csv</c> (a header row naming the columns) or <c>application/x-ndjson</c>.</summary>
public enum ImportFormat
{
    Csv,
    NdJson,
}

/// <summary>A live data set's settings (the body of <c>PUT /datasets/{name}</c>).</summary>
/// <param name="FeedbackTypes">Type name to weight, e.g. purchase 3, click 1, dislike -1; null: <c>{"rating": 1}</c>.</param>
/// <param name="AutoCreateItems">Whether feedback for an unknown item creates it; null: true.</param>
public sealed record DatasetSettings(IReadOnlyDictionary<string, double>? FeedbackTypes = null, bool? AutoCreateItems = null);

/// <summary>A data set as <c>GET /datasets</c> lists it: <see cref="Kind"/> <c>file</c> (counts unknown) or <c>live</c>.</summary>
/// <param name="Version">Live: bumped by every committed write.</param>
/// <param name="LastFeedbackAt">Live: the latest feedback time, Unix seconds.</param>
public sealed record DatasetInfo(
    string Name,
    string Kind,
    long? Version = null,
    long? Users = null,
    long? Items = null,
    long? Feedback = null,
    long? LastFeedbackAt = null,
    DateTimeOffset? CreatedAt = null,
    DatasetSettings? Settings = null);

/// <summary>An item of a live catalogue (<c>POST .../items</c>); fields left null are left out of the request.</summary>
/// <param name="Timestamp">Published, Unix seconds.</param>
/// <param name="Labels">A free JSON object, stored and returned.</param>
public sealed record ItemRecord(string ItemId, string? Title = null, IReadOnlyList<string>? Categories = null, bool? Hidden = null, long? Timestamp = null,
    JsonElement? Labels = null);

/// <summary>One feedback event (<c>POST .../feedback</c>); <see cref="Type"/> may be left out when the data set declares one type.</summary>
/// <param name="Value">The rating for type <c>rating</c>; a multiplier of the type's weight otherwise (null: 1).</param>
/// <param name="Timestamp">Unix seconds.</param>
public sealed record FeedbackRecord(string UserId, string ItemId, string? Type = null, double? Value = null, long? Timestamp = null);

/// <summary>What a committed write did, and the data set's version after it.</summary>
public sealed record DatasetWrite(long Inserted, long Updated, long Refused, long Version);

/// <summary>An erased user; <see cref="ServingModels"/> serving models forgot their vector and seen list.</summary>
public sealed record ErasedUser(string Dataset, string UserId, long FeedbackErased, long Version, int ServingModels);
