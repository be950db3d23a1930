using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RankService.Api.Extensions;
using RankService.Api.Jobs;

namespace RankService.Api.Apis;

/// <summary><c>/jobs</c>: train models on the training queue, follow them, cancel them.</summary>
public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/jobs").WithTags("Jobs");

        api.MapPost("/", CreateJob)
            .WithName("CreateJob")
            .WithSummary("Start a training job")
            .RequireApiKey()
            .RateLimitedBy(RateLimitingExtensions.JobsPolicy, app)
            .WithDescription("Queues a training job on the training queue. Every field is optional and defaults to the configured training defaults; `dataset` is a configured data set such as `ml-100k`, or `synthetic` for the built-in offline set. Answers 202 with `Location: /jobs/{id}`. Each invalid field is named in the 400 answer with its allowed range. `promote` (always, if-better, never) says whether the finished model may replace the serving one. With `search` (`{\"trials\": 4, \"space\": {\"learningRate\": [0.001, 0.01], ...}, \"seed\": 1}`) the job is a search: one child job per trial, drawn without repeats from the grid of the space's values, the best picked on validation NDCG@10.");

        api.MapGet("/", ListJobs)
            .WithName("ListJobs")
            .WithSummary("List jobs, newest first")
            .WithDescription("Every job in the artifacts folder, including those of earlier runs of the service, newest first, `pageSize` (1-100, default 20) at a time.");

        api.MapGet("/{id}", GetJob)
            .WithName("GetJob")
            .WithSummary("Get a job")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("State (queued, running, succeeded, failed, cancelled), progress with elapsed and estimated remaining time, best validation metrics so far, the best checkpoint and the error, if any.");

        api.MapDelete("/{id}", CancelJob)
            .WithName("CancelJob")
            .WithSummary("Cancel a job")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireApiKey()
            .WithDescription("A queued job is cancelled at once (200), and so is a search with each of its trials. A running job is asked to stop (202): it stops within one batch and keeps its best checkpoint so far. A finished job answers 409.");

        api.MapGet("/{id}/metrics", GetJobMetrics)
            .WithName("GetJobMetrics")
            .WithSummary("Get a job's metrics")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithDescription("Per-epoch series (train loss and its parts, validation metrics, epoch seconds) while the job runs and after; test metrics of the best checkpoint and the popularity baseline when it is done. A search lists its trials in `leaderboard`, best validation NDCG@10 first.");

        return app;
    }

    public static Results<Accepted<JobView>, ValidationProblem> CreateJob(JobRequest? request, JobService jobs, TimeProvider clock)
    {
        request ??= new JobRequest();
        IDictionary<string, string[]> errors = jobs.Validate(request, out var options, out string dataset);
        IReadOnlyList<SearchTrial>? trials = errors.Count == 0 ? jobs.PlanSearch(request, options, errors) : null;
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The training request has invalid fields; each names its allowed values.");
        }
        JobRecord record = trials is null ? jobs.Submit(dataset, options, request) : jobs.SubmitSearch(dataset, options, request, trials);
        return TypedResults.Accepted($"/jobs/{record.Id}", JobView.From(record, clock.GetUtcNow()));
    }

    public static Results<Ok<JobPage>, ValidationProblem> ListJobs(JobStore store, TimeProvider clock, int page = 1, int pageSize = 20)
    {
        var errors = new Dictionary<string, string[]>();
        if (page < 1)
        {
            errors["page"] = [$"page must be 1 or more; got {page}."];
        }
        if (pageSize is < 1 or > 100)
        {
            errors["pageSize"] = [$"pageSize must be between 1 and 100; got {pageSize}."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        IReadOnlyList<JobRecord> all = store.List();
        DateTimeOffset now = clock.GetUtcNow();
        // long arithmetic: page 2^31-1 skips everything rather than overflowing to a negative skip.
        int skip = (int)Math.Min(int.MaxValue, (page - 1L) * pageSize);
        List<JobView> items = all.Skip(skip).Take(pageSize).Select(r => JobView.From(r, now)).ToList();
        return TypedResults.Ok(new JobPage(page, pageSize, all.Count, items));
    }

    public static Results<Ok<JobView>, ProblemHttpResult> GetJob(string id, JobStore store, TimeProvider clock) =>
        store.Find(id) is { } record
            ? TypedResults.Ok(JobView.From(record, clock.GetUtcNow()))
            : TypedResults.Problem(JobNotFound(id));

    public static Results<Ok<JobView>, Accepted<JobView>, ProblemHttpResult> CancelJob(string id, JobService jobs, TimeProvider clock)
    {
        (JobService.CancelOutcome outcome, JobRecord? record) = jobs.Cancel(id);
        DateTimeOffset now = clock.GetUtcNow();
        return outcome switch
        {
            JobService.CancelOutcome.Cancelled => TypedResults.Ok(JobView.From(record!, now)),
            JobService.CancelOutcome.Cancelling => TypedResults.Accepted($"/jobs/{id}", JobView.From(record!, now)),
            JobService.CancelOutcome.AlreadyFinished => TypedResults.Problem(new ProblemDetails
            {
                Title = "The job has already finished",
                Detail = $"Job {id} is {record!.State.ToString().ToLowerInvariant()}; only a queued or running job can be cancelled.",
                Status = StatusCodes.Status409Conflict,
            }),
            _ => TypedResults.Problem(JobNotFound(id)),
        };
    }

    public static Results<Ok<JobMetrics>, ProblemHttpResult> GetJobMetrics(string id, JobStore store, SearchCoordinator searches)
    {
        if (store.Find(id) is not { } r)
        {
            return TypedResults.Problem(JobNotFound(id));
        }
        bool done = r.State.IsFinished();
        return TypedResults.Ok(new JobMetrics(r.Id, r.State, r.BestEpoch, store.ReadMetrics(id), r.BestValidation,
            done ? r.Test : null, done ? r.PopularityValidation : null, done ? r.PopularityTest : null,
            r.Search is null ? null : searches.Leaderboard(r)));
    }

    internal static ProblemDetails JobNotFound(string id) => new()
    {
        Title = "Job not found",
        Detail = $"There is no job '{Echo.Of(id)}'. GET /jobs lists the jobs.",
        Status = StatusCodes.Status404NotFound,
    };
}
