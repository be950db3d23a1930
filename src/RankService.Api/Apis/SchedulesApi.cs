using System.Text.Json;
using Hangfire;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using RankService.Api.Extensions;
using RankService.Api.Jobs;
using RankService.Api.Options;
using RankService.Ranking.Training;

namespace RankService.Api.Apis;

/// <summary>Body of <c>PUT /datasets/{name}/schedule</c>.</summary>
public sealed record ScheduleRequest
{
    /// <summary>When to train, in UTC: 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first.</summary>
    /// <example>0 3 * * *</example>
    public string? Cron { get; init; }

    /// <summary>Training options (JSON names, as the fields of POST /jobs) over the configured defaults of the moment it fires.</summary>
    public JsonElement? Training { get; init; }

    /// <summary>always, if-better (default) or never: whether each scheduled job's model may replace the serving one.</summary>
    /// <example>if-better</example>
    public string? Promote { get; init; }
}

/// <summary><c>/datasets/{name}/schedule</c>: retrain a data set on a schedule (Hangfire recurring jobs).</summary>
public static class SchedulesApi
{
    public const int MaxCronLength = 100;

    public static IEndpointRouteBuilder MapSchedulesApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/datasets/{name}/schedule").WithTags("Schedules");

        api.MapPut("/", PutSchedule)
            .WithName("PutSchedule")
            .WithSummary("Train a data set on a schedule")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireApiKey()
            .WithDescription("Creates or replaces the data set's schedule: `cron` (UTC; 5 fields, or 6 with seconds first, as Hangfire reads them), `training` (training options over the configured defaults) and `promote` (always, if-better, never). Each time it fires, one training job is queued on the data set's current data and its model replaces the serving one as `promote` says. Kept by Hangfire as a recurring job, so it survives restarts with PostgreSQL storage and runs on whichever worker is free. 400 names each bad field; 404 for a data set that is not configured.");

        api.MapGet("/", GetSchedule)
            .WithName("GetSchedule")
            .WithSummary("Get a data set's schedule")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("The schedule with its next and last run (UTC); 404 when the data set has none or is not configured.");

        api.MapDelete("/", DeleteSchedule)
            .WithName("DeleteSchedule")
            .WithSummary("Stop a data set's schedule")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireApiKey()
            .WithDescription("Removes the schedule (204); jobs it queued already are left as they are. 404 when the data set has none.");

        return app;
    }

    public static Results<Ok<TrainingSchedule>, ValidationProblem, ProblemHttpResult> PutSchedule(
        string name, ScheduleRequest? request, JobService jobs, IRecurringJobManager recurring, JobStorage storage, IOptions<DataOptions> data)
    {
        if (!data.Value.IsKnown(name))
        {
            return TypedResults.Problem(UnknownDataset(name, data.Value));
        }
        request ??= new ScheduleRequest();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(request.Cron))
        {
            errors["cron"] = ["cron is required: when to train, in UTC, e.g. \"0 3 * * *\" (daily at 03:00)."];
        }
        else if (request.Cron.Length > MaxCronLength)
        {
            errors["cron"] = [$"cron is at most {MaxCronLength} characters; got {request.Cron.Length}."];
        }

        // Only training options: each is checked by the catalog as a POST /jobs field is, and reported under training.
        var training = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        switch (request.Training)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                break;
            case { ValueKind: JsonValueKind.Object } fields:
                foreach (JsonProperty field in fields.EnumerateObject())
                {
                    if (TrainingOptionCatalog.Find(field.Name) is not { HostOnly: false } option)
                    {
                        errors[$"training.{Echo.Of(field.Name)}"] = [$"'{Echo.Of(field.Name)}' is not a training option. Known options: {string.Join(", ", TrainingOptionCatalog.Options.Where(o => !o.HostOnly).Select(o => o.JsonName))}."];
                    }
                    else if (field.Value.ValueKind != JsonValueKind.Null)
                    {
                        training[option.JsonName] = field.Value.Clone();
                    }
                }
                break;
            default:
                errors["training"] = ["training takes a JSON object of training options, e.g. {\"epochs\": 20}."];
                break;
        }
        var job = new JobRequest { Dataset = name, Promote = request.Promote, Options = training };
        foreach ((string field, string[] messages) in jobs.Validate(job, out _, out _))
        {
            errors[field == "promote" || field == "dataset" ? field : $"training.{field}"] = messages;
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The schedule has invalid fields; each names its allowed values.");
        }

        var schedule = new TrainingSchedule(name, request.Cron!.Trim(), training, PromotePolicies.Parse(request.Promote ?? "if-better") ?? PromotePolicy.IfBetter);
        try
        {
            ScheduledTraining.Save(recurring, schedule);
        }
        catch (ArgumentException e) when (e.ParamName == "cronExpression")
        {
            // Hangfire parses the expression (Cronos) before it stores anything: its rule is the one that will run.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["cron"] = [$"'{Echo.Of(request.Cron)}' is not a cron expression Hangfire can run: {e.InnerException?.Message ?? e.Message} Use 5 fields (minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\") or 6 with seconds first."],
            }, detail: "The schedule has invalid fields; each names its allowed values.");
        }
        return TypedResults.Ok(ScheduledTraining.Find(storage, name) ?? schedule);
    }

    public static Results<Ok<TrainingSchedule>, ProblemHttpResult> GetSchedule(string name, JobStorage storage, IOptions<DataOptions> data)
    {
        if (!data.Value.IsKnown(name))
        {
            return TypedResults.Problem(UnknownDataset(name, data.Value));
        }
        return ScheduledTraining.Find(storage, name) is { } schedule
            ? TypedResults.Ok(schedule)
            : TypedResults.Problem(NoSchedule(name));
    }

    public static Results<NoContent, ProblemHttpResult> DeleteSchedule(string name, IRecurringJobManager recurring, JobStorage storage, IOptions<DataOptions> data)
    {
        if (!data.Value.IsKnown(name))
        {
            return TypedResults.Problem(UnknownDataset(name, data.Value));
        }
        if (ScheduledTraining.Find(storage, name) is null)
        {
            return TypedResults.Problem(NoSchedule(name));
        }
        recurring.RemoveIfExists(ScheduledTraining.RecurringJobId(name));
        return TypedResults.NoContent();
    }

    private static ProblemDetails UnknownDataset(string name, DataOptions data) => new()
    {
        Title = "Data set not found",
        Detail = $"There is no data set '{Echo.Of(name)}'. Configured data sets: {string.Join(", ", data.Datasets)}.",
        Status = StatusCodes.Status404NotFound,
    };

    private static ProblemDetails NoSchedule(string name) => new()
    {
        Title = "No schedule",
        Detail = $"Data set {name} has no schedule; PUT /datasets/{name}/schedule sets one.",
        Status = StatusCodes.Status404NotFound,
    };
}
