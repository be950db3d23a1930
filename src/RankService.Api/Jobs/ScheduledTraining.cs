using System.Text.Json;
using Hangfire;
using Hangfire.Common;
using Hangfire.Storage;
using RankService.Api.Options;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>
/// A data set's training schedule (<c>PUT /datasets/{name}/schedule</c>): a cron expression, the training options given
/// over the configured defaults, and the promote policy of the jobs it starts.
/// </summary>
/// <param name="Dataset">The configured data set it trains on.</param>
/// <param name="Cron">When it fires, in UTC: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first.</param>
/// <param name="Training">The training options given (JSON names to values); the rest take the configured defaults when it fires.</param>
/// <param name="Promote">always, if-better or never, for each job it starts.</param>
/// <param name="NextRun">When it fires next (UTC), as Hangfire has it; null when unknown.</param>
/// <param name="LastRun">When it fired last (UTC); null before.</param>
public sealed record TrainingSchedule(
    string Dataset,
    string Cron,
    IReadOnlyDictionary<string, JsonElement> Training,
    PromotePolicy Promote,
    DateTime? NextRun = null,
    DateTime? LastRun = null);

/// <summary>
/// Training schedules as Hangfire recurring jobs (<see cref="IRecurringJobManager"/>), one per data set with id
/// <c>train-{dataset}</c>: the definition lives in Hangfire's storage (so with PostgreSQL it survives restarts and any
/// worker runs it) and its arguments hold the schedule's request. When it fires, <see cref="Run"/> submits a normal
/// training job through <see cref="JobService"/>, validated against the defaults of that moment; the job loads the data
/// set's current data when it starts.
/// </summary>
public sealed class ScheduledTraining(JobService jobs, ILogger<ScheduledTraining> logger)
{
    public static string RecurringJobId(string dataset) => $"train-{dataset}";

    /// <summary>Creates or replaces <paramref name="schedule"/>; throws <see cref="ArgumentException"/> (parameter <c>cronExpression</c>) for a cron Hangfire refuses.</summary>
    public static void Save(IRecurringJobManager manager, TrainingSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(schedule);
        string request = JsonSerializer.Serialize(new StoredSchedule(schedule.Training, schedule.Promote.Wire()), JobStore.Json);
        Job job = Job.FromExpression<ScheduledTraining>(t => t.Run(schedule.Dataset, request), JobsOptions.TrainingQueue);
        manager.AddOrUpdate(RecurringJobId(schedule.Dataset), job, schedule.Cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
    }

    /// <summary>The data set's schedule as Hangfire stores it; null when it has none.</summary>
    public static TrainingSchedule? Find(JobStorage storage, string dataset)
    {
        ArgumentNullException.ThrowIfNull(storage);
        using IStorageConnection connection = storage.GetConnection();
        RecurringJobDto? stored = connection.GetRecurringJobs([RecurringJobId(dataset)]).FirstOrDefault(j => !j.Removed);
        if (stored?.Job is not { Args.Count: 2 } job || job.Args[1] is not string request
            || JsonSerializer.Deserialize<StoredSchedule>(request, JobStore.Json) is not { } definition)
        {
            return null;
        }
        return new TrainingSchedule(dataset, stored.Cron, definition.Training, PromotePolicies.Parse(definition.Promote) ?? PromotePolicy.IfBetter,
            stored.NextExecution, stored.LastExecution);
    }

    /// <summary>Fired by Hangfire: queues one training job on the data set's current data.</summary>
    [Queue(JobsOptions.TrainingQueue)]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("Scheduled training of {0}")]
    public void Run(string dataset, string request)
    {
        StoredSchedule definition = JsonSerializer.Deserialize<StoredSchedule>(request, JobStore.Json)
            ?? throw new InvalidOperationException($"The schedule of {dataset} is empty.");
        var job = new JobRequest
        {
            Dataset = dataset,
            Promote = definition.Promote,
            Options = new Dictionary<string, JsonElement>(definition.Training, StringComparer.Ordinal),
        };
        IDictionary<string, string[]> errors = jobs.Validate(job, out TrainingOptions options, out string name);
        if (errors.Count > 0)
        {
            // The configuration changed since the schedule was saved (a data set removed, say): say what, and start nothing.
            string problems = string.Join(" ", errors.SelectMany(e => e.Value));
            logger.LogError("The schedule of {Dataset} starts no job: {Problems}", dataset, problems);
            throw new InvalidOperationException($"The schedule of {dataset} starts no job: {problems}");
        }
        JobRecord record = jobs.Submit(name, options, job);
        logger.LogInformation("The schedule of {Dataset} queued job {JobId}", dataset, record.Id);
    }

    /// <summary>What the recurring job's argument holds.</summary>
    private sealed record StoredSchedule(IReadOnlyDictionary<string, JsonElement> Training, string Promote);
}
