using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RankService.Api.Extensions;
using RankService.Api.Jobs;
using RankService.Api.Serving;
using RankService.Ranking.Checkpoints;

namespace RankService.Api.Apis;

/// <summary>A trained model: the job that made it, its metrics, and whether it serves its data set.</summary>
/// <param name="JobId">The job that trained it; use it with POST /models/{id}/activate.</param>
/// <param name="Serving">True when it answers rankings for its data set.</param>
/// <param name="Validation">Validation metrics of its best epoch (NDCG@10 selects the serving model).</param>
/// <param name="Test">Test metrics of its best checkpoint.</param>
/// <param name="PopularityTest">The popularity baseline on the same test users.</param>
public sealed record ModelView(
    string JobId,
    string Dataset,
    JobState State,
    bool Serving,
    int BestEpoch,
    IReadOnlyDictionary<string, double>? Validation,
    IReadOnlyDictionary<string, double>? Test,
    IReadOnlyDictionary<string, double>? PopularityTest,
    DateTimeOffset? FinishedAt,
    string Checkpoint);

/// <summary><c>/models</c>: trained models and which one serves each data set.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/models").WithTags("Models");

        api.MapGet("/", ListModels)
            .WithName("ListModels")
            .WithSummary("List trained models")
            .WithDescription("Every finished job with a checkpoint (succeeded, or cancelled after at least one epoch), newest first, with its metrics and whether it serves its data set.");

        api.MapPost("/{id}/activate", ActivateModel)
            .WithName("ActivateModel")
            .WithSummary("Serve a chosen model")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireApiKey()
            .WithDescription("Makes job `id`'s model the serving model of its data set, and its data set the default of GET /users/{id}/ranking. The switch is atomic: requests in flight finish on the old model. 404 for an unknown job, 409 for a job without a usable checkpoint.");

        return app;
    }

    public static Ok<IReadOnlyList<ModelView>> ListModels(JobStore store, ModelRegistry registry)
    {
        IReadOnlyDictionary<string, string> serving = registry.ServingJobs();
        IReadOnlyList<ModelView> models = store.List()
            .Where(IsModel)
            .Select(r => ToView(r, serving.TryGetValue(r.Dataset, out string? s) && s == r.Id))
            .ToList();
        return TypedResults.Ok(models);
    }

    public static Results<Ok<ModelView>, ProblemHttpResult> ActivateModel(string id, JobStore store, ModelRegistry registry)
    {
        if (store.Find(id) is not { } record)
        {
            return TypedResults.Problem(JobsApi.JobNotFound(id));
        }
        if (!IsModel(record))
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "The job has no model to serve",
                Detail = $"Job {id} is {record.State.ToString().ToLowerInvariant()} and has {(record.Checkpoint is null ? "no checkpoint" : "not finished")}; only a finished job with a checkpoint can serve.",
                Status = StatusCodes.Status409Conflict,
            });
        }
        try
        {
            registry.Activate(record);
        }
        catch (CheckpointException e)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "The checkpoint cannot be loaded",
                Detail = e.Message,
                Status = StatusCodes.Status409Conflict,
            });
        }
        return TypedResults.Ok(ToView(record, serving: true));
    }

    private static bool IsModel(JobRecord r) => r.State is JobState.Succeeded or JobState.Cancelled && r.Checkpoint is not null && r.BestEpoch > 0;

    private static ModelView ToView(JobRecord r, bool serving) =>
        new(r.Id, r.Dataset, r.State, serving, r.BestEpoch, r.BestValidation, r.Test, r.PopularityTest, r.FinishedAt, r.Checkpoint!);
}
