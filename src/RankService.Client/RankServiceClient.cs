using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RankService.Client;

/// <summary>
/// A typed client of the RankService HTTP API over an <see cref="HttpClient"/> whose <c>BaseAddress</c> is the
/// service (e.g. <c>http://localhost:5000/</c>). Each resource's calls are in their own file
/// (<c>RankServiceClient.Jobs.cs</c>, <c>.Models.cs</c>, <c>.Rankings.cs</c>, <c>.Recommendations.cs</c>,
/// <c>.Datasets.cs</c>, <c>.Schedules.cs</c>, <c>.Health.cs</c>); a new endpoint is
/// one method there (or one new file) built on <see cref="SendAsync{T}"/>, <see cref="GetAsync{T}"/> and friends.
/// Every call takes a <see cref="CancellationToken"/>; an answer other than success throws
/// <see cref="RankServiceException"/> with the service's ProblemDetails.
/// The client does not own the <see cref="HttpClient"/> and never changes its default headers: the API key (sent as
/// <c>X-Api-Key</c>) is added to each request.
/// </summary>
public sealed partial class RankServiceClient
{
    /// <summary>The header that carries an API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>The API's JSON: camelCase names, enums as their wire strings, NaN and infinities as named literals.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Request bodies: <see cref="Json"/> without the fields left null, so the service applies its defaults.</summary>
    private static readonly JsonSerializerOptions RequestJson = new(Json) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly HttpClient _http;
    private readonly string? _apiKey;

    /// <param name="http">The service's base address as <c>BaseAddress</c>; a path prefix must end with '/'.</param>
    /// <param name="apiKey">Sent as <c>X-Api-Key</c> with every request; null sends none (reads, or loopback without keys).</param>
    public RankServiceClient(HttpClient http, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
    }

    /// <summary>Sends <paramref name="request"/> and reads a JSON <typeparamref name="T"/> from a successful answer.</summary>
    private async Task<T> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await SendRawAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadAsync<T>(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends <paramref name="request"/> with the key; throws <see cref="RankServiceException"/> unless it succeeded.</summary>
    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            if (_apiKey is not null)
            {
                request.Headers.TryAddWithoutValidation(ApiKeyHeader, _apiKey);
            }
            HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                using (response)
                {
                    throw await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
                }
            }
            return response;
        }
    }

    /// <summary>Sends <paramref name="request"/> for an answer without a body (204).</summary>
    private async Task SendEmptyAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        (await SendRawAsync(request, cancellationToken).ConfigureAwait(false)).Dispose();

    private Task<T> PostJsonAsync<TBody, T>(string path, TBody body, CancellationToken cancellationToken) =>
        SendAsync<T>(new HttpRequestMessage(HttpMethod.Post, Relative(path)) { Content = JsonContent.Create(body, options: RequestJson) }, cancellationToken);

    private Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) =>
        SendAsync<T>(new HttpRequestMessage(HttpMethod.Get, Relative(path)), cancellationToken);

    private Task<T> PostAsync<T>(string path, JsonNode? body, CancellationToken cancellationToken) =>
        SendAsync<T>(new HttpRequestMessage(HttpMethod.Post, Relative(path)) { Content = body is null ? null : JsonContent.Create(body, options: Json) }, cancellationToken);

    private Task<T> DeleteAsync<T>(string path, CancellationToken cancellationToken) =>
        SendAsync<T>(new HttpRequestMessage(HttpMethod.Delete, Relative(path)), cancellationToken);

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
                ?? throw new RankServiceException(response.StatusCode, "Empty answer", $"The service answered {(int)response.StatusCode} with no JSON body.");
        }
        catch (JsonException e)
        {
            throw new RankServiceException($"The service's answer to {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} is not the JSON this client expects: {e.Message}", e);
        }
    }

    /// <summary>The exception for a failed answer: its ProblemDetails when it has one, else the status and reason phrase.</summary>
    private static async Task<RankServiceException> ProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        TimeSpan? retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => null,
        };
        string fallback = response.ReasonPhrase ?? response.StatusCode.ToString();
        MediaTypeHeaderValue? type = response.Content.Headers.ContentType;
        if (type?.MediaType is "application/problem+json" or "application/json")
        {
            try
            {
                Problem? problem = await response.Content.ReadFromJsonAsync<Problem>(Json, cancellationToken).ConfigureAwait(false);
                if (problem is not null)
                {
                    return new RankServiceException(response.StatusCode, problem.Title ?? fallback, problem.Detail, problem.Errors, problem.Type, retryAfter);
                }
            }
            catch (JsonException)
            {
                // Not a ProblemDetails after all: fall through to the status line.
            }
        }
        return new RankServiceException(response.StatusCode, fallback, null, null, null, retryAfter);
    }

    /// <summary>Paths relative to the base address (no leading '/'), so a base address with a path prefix keeps it.</summary>
    private static Uri Relative(string path) => new(path.TrimStart('/'), UriKind.Relative);

    /// <summary>A path segment from caller input (an id), escaped so it stays one segment.</summary>
    private static string Segment(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Uri.EscapeDataString(value);
    }

    private sealed record Problem(string? Type, string? Title, int? Status, string? Detail, Dictionary<string, string[]>? Errors);
}
