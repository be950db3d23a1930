using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary>
    /// <c>PUT /datasets/{name}/schedule</c> (needs a key): creates or replaces the data set's training schedule, a
    /// Hangfire recurring job that queues one training job each time its cron fires.
    /// </summary>
    public Task<Schedule> PutScheduleAsync(string dataset, ScheduleSubmission schedule, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return SendAsync<Schedule>(new HttpRequestMessage(HttpMethod.Put, Relative($"datasets/{Segment(dataset)}/schedule"))
        {
            Content = JsonContent.Create(schedule, options: RequestJson),
        }, cancellationToken);
    }

    /// <summary><c>GET /datasets/{name}/schedule</c>: the schedule with its next and last run; 404 when there is none.</summary>
    public Task<Schedule> GetScheduleAsync(string dataset, CancellationToken cancellationToken = default) =>
        GetAsync<Schedule>($"datasets/{Segment(dataset)}/schedule", cancellationToken);

    /// <summary><c>DELETE /datasets/{name}/schedule</c> (needs a key): stops the schedule; jobs it queued stay; 404 when there is none.</summary>
    public Task DeleteScheduleAsync(string dataset, CancellationToken cancellationToken = default) =>
        SendEmptyAsync(new HttpRequestMessage(HttpMethod.Delete, Relative($"datasets/{Segment(dataset)}/schedule")), cancellationToken);
}

/// <summary>The body of <c>PUT /datasets/{name}/schedule</c>.</summary>
/// <param name="Cron">When to train, in UTC: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first.</param>
/// <param name="Training">Training options by JSON name over the defaults of the moment it fires; null: the defaults.</param>
/// <param name="Promote">always, if-better or never; null: if-better.</param>
public sealed record ScheduleSubmission(string Cron, JsonObject? Training = null, string? Promote = null);

/// <summary>A data set's schedule as the service keeps it.</summary>
/// <param name="Training">The training options given, by JSON name.</param>
/// <param name="Promote">always, if-better or never.</param>
/// <param name="NextRun">When it fires next (UTC); null when unknown.</param>
/// <param name="LastRun">When it fired last (UTC); null before.</param>
public sealed record Schedule(string Dataset, string Cron, IReadOnlyDictionary<string, JsonElement> Training, string Promote, DateTime? NextRun = null,
    DateTime? LastRun = null);
