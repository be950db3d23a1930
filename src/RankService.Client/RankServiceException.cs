using System.Net;

namespace RankService.Client;

/// <summary>
/// A RankService answer other than success: the service's RFC 7807 ProblemDetails (title, detail and, for a 400, the
/// bad fields with their messages) and the HTTP status. <see cref="RetryAfter"/> is set on a 429.
/// </summary>
public sealed class RankServiceException : Exception
{
    public RankServiceException(HttpStatusCode status, string title, string? detail, IReadOnlyDictionary<string, string[]>? errors = null,
        string? type = null, TimeSpan? retryAfter = null)
        : base(detail is null ? $"{(int)status} {title}" : $"{(int)status} {title}: {detail}")
    {
        Status = status;
        Title = title;
        Detail = detail;
        Errors = errors ?? new Dictionary<string, string[]>(StringComparer.Ordinal);
        Type = type;
        RetryAfter = retryAfter;
    }

    public RankServiceException()
        : this(HttpStatusCode.InternalServerError, "RankService error", null)
    {
    }

    public RankServiceException(string message)
        : this(HttpStatusCode.InternalServerError, message, null)
    {
    }

    public RankServiceException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = HttpStatusCode.InternalServerError;
        Title = message;
        Errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
    }

    public HttpStatusCode Status { get; }

    /// <summary>The problem's title, or the HTTP reason phrase when the answer carried no ProblemDetails.</summary>
    public string Title { get; }

    public string? Detail { get; }

    /// <summary>For a 400: each bad field (by its JSON name) with its messages; empty otherwise.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    /// <summary>The problem type URI, when the service gave one.</summary>
    public string? Type { get; }

    /// <summary>How long to wait before trying again, on a 429.</summary>
    public TimeSpan? RetryAfter { get; }
}
