using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using RankService.Api.Extensions;
using RankService.Api.Jobs;
using RankService.Api.Serving;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Ensembles;

namespace RankService.Api.Apis;

/// <summary>A trained model: the job that made it, its metrics, and whether it serves its data set.</summary>
/// <param name="JobId">The job that trained it; use it with POST /models/{id}/activate.</param>
/// <param name="Serving">True when it answers rankings for its data set.</param>
/// <param name="Kind">What it serves: <c>two-tower</c>, or <c>two-tower+ease</c> (the blend with EASE its job asked for, see the manifest's <c>blend</c>).</param>
/// <param name="Validation">Validation metrics of its best epoch (NDCG@10 selects the serving model).</param>
/// <param name="Test">Test metrics of its best checkpoint.</param>
/// <param name="PopularityTest">The popularity baseline on the same test users.</param>
/// <param name="Index">Its approximate index, when it has one (or, serving, is getting one).</param>
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
    string Checkpoint,
    IndexView? Index = null,
    string Kind = ModelKinds.TwoTower);

/// <summary>A model with its best checkpoint's manifest.</summary>
/// <param name="Model">What GET /models lists for it.</param>
/// <param name="PopularityValidation">The popularity baseline on the same validation users.</param>
/// <param name="Manifest">The checkpoint manifest: training config, model shape, metrics, data fingerprint, file hashes.</param>
public sealed record ModelDetails(ModelView Model, IReadOnlyDictionary<string, double>? PopularityValidation, CheckpointManifest Manifest);

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
            .WithDescription("Makes job `id`'s model the serving model of its data set, and records it as activated last (the default of rankings is always Data:DefaultDataset). The switch is atomic: requests in flight finish on the old model. 404 for an unknown job, 409 for a job without a usable checkpoint.");

        api.MapGet("/{id}", GetModel)
            .WithName("GetModel")
            .WithSummary("Get a model's full manifest")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithDescription("The best checkpoint's manifest: the complete training config (`manifest.training`), the model shape, validation and test metrics, and the data set's name, format, size and fingerprint, so the result can be reproduced. Retrain it with POST /jobs `{\"fromModel\": \"<id>\"}`, or post `{\"dataset\": ..., \"training\": <manifest.training>}`. 404 for an unknown job, 409 for a job without a usable checkpoint.");

        api.MapGet("/{id}/embeddings", GetEmbeddings)
            .WithName("GetModelEmbeddings")
            .WithSummary("Export a model's user or item vectors")
            .Produces<Stream>(StatusCodes.Status200OK, "text/csv", "application/octet-stream")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithDescription("`side=users|items`, `format=csv|npy|ids-npy|ids-json|bias-npy`. `csv`: header `id,v0,...,v{d-1}` (plus `bias` for items when the model has an item bias), one row per id, ids as text. `npy`: the vectors as a NumPy float32 array of shape (n, d); its row i belongs to row i of `ids-json`, the ids as a JSON array of strings, and of `ids-npy`, the ids as an int64 array of shape (n,), which exists only when every id is an integer (MovieLens; otherwise a 400) (`bias-npy`: the item biases, float32 (n,)). With the `dot` head a score is user . item + bias. 400 for an unknown side or format, 404 for an unknown job, 409 for a job without a usable checkpoint.");

        api.MapDelete("/{id}", DeleteModel)
            .WithName("DeleteModel")
            .WithSummary("Delete a model's checkpoints")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireApiKey()
            .WithDescription("Deletes the checkpoints of job `id` from disk (every saved epoch: vectors, id maps, seen lists), e.g. to remove an erased user's vector from older models. The job stays listed under /jobs with its metrics; it is no model any more. 409 while the model serves its data set (activate another first) or while the job is queued or running.");

        return app;
    }

    public static Results<NoContent, ProblemHttpResult> DeleteModel(string id, JobStore store, ModelRegistry registry)
    {
        if (store.Find(id) is not { } record)
        {
            return TypedResults.Problem(JobsApi.JobNotFound(id));
        }
        string? conflict = !record.State.IsFinished() ? $"Job {id} is {record.State.ToString().ToLowerInvariant()}; cancel it first."
            : registry.ServingJobs().TryGetValue(record.Dataset, out string? serving) && serving == id
                ? $"Job {id}'s model serves data set '{record.Dataset}'; activate another model (POST /models/{{id}}/activate) before deleting it."
            : null;
        if (conflict is not null)
        {
            return TypedResults.Problem(new ProblemDetails { Title = "The model cannot be deleted now", Detail = conflict, Status = StatusCodes.Status409Conflict });
        }
        string checkpoints = Path.Combine(store.Folder(id), "checkpoints");
        if (Directory.Exists(checkpoints))
        {
            Directory.Delete(checkpoints, recursive: true);
        }
        store.Update(id, r => r.Checkpoint is null ? r : r with { Checkpoint = null });
        return TypedResults.NoContent();
    }

    public static Results<Ok<ModelDetails>, ProblemHttpResult> GetModel(string id, JobStore store, ModelRegistry registry)
    {
        if (FindModel(id, store, out JobRecord? record) is { } problem)
        {
            return TypedResults.Problem(problem);
        }
        try
        {
            (CheckpointManifest manifest, _) = CheckpointStore.ReadVerified(store.CheckpointPath(record!)!);
            bool serving = registry.ServingJobs().TryGetValue(record!.Dataset, out string? s) && s == record.Id;
            return TypedResults.Ok(new ModelDetails(ToView(record, serving), record.PopularityValidation, manifest));
        }
        catch (CheckpointException e)
        {
            return TypedResults.Problem(Unloadable(e));
        }
    }

    public static Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult> GetEmbeddings(
        string id, JobStore store, string side = "users", string format = "csv")
    {
        var errors = new Dictionary<string, string[]>();
        EmbeddingSide? parsedSide = side switch { "users" => EmbeddingSide.Users, "items" => EmbeddingSide.Items, _ => null };
        if (parsedSide is null)
        {
            errors["side"] = [$"side must be 'users' or 'items'; got '{Echo.Of(side)}'."];
        }
        if (!EmbeddingFormats.Contains(format))
        {
            errors["format"] = [$"format must be one of {string.Join(", ", EmbeddingFormats)}; got '{Echo.Of(format)}'."];
        }
        else if (format == "bias-npy" && parsedSide == EmbeddingSide.Users)
        {
            errors["format"] = ["bias-npy exists for side=items only (the item bias)."];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "Ask for side=users|items and format=csv|npy|ids-npy|ids-json|bias-npy.");
        }
        if (FindModel(id, store, out JobRecord? record) is { } problem)
        {
            return TypedResults.Problem(problem);
        }
        EmbeddingTable table;
        try
        {
            using LoadedCheckpoint checkpoint = CheckpointStore.Load(store.CheckpointPath(record!)!);
            table = EmbeddingExport.Extract(checkpoint, parsedSide!.Value);
        }
        catch (CheckpointException e)
        {
            return TypedResults.Problem(Unloadable(e));
        }
        if (format == "bias-npy" && table.Bias is null)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "The model has no item bias",
                Detail = $"Job {id}'s model was trained with itemBias false; ask for format=npy or csv.",
                Status = StatusCodes.Status409Conflict,
            });
        }
        if (format == "ids-npy" && table.IntegerIds is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["format"] = [$"ids-npy holds integer ids, and job {id}'s {side} ids are not all integers; ask for format=ids-json or csv."],
            });
        }
        using var buffer = new MemoryStream();
        switch (format)
        {
            case "csv":
                EmbeddingExport.WriteCsv(buffer, table);
                break;
            case "npy":
                EmbeddingExport.WriteNpy(buffer, table);
                break;
            case "ids-npy":
                EmbeddingExport.WriteIdsNpy(buffer, table.IntegerIds!);
                break;
            case "ids-json":
                EmbeddingExport.WriteIdsJson(buffer, table.Ids);
                break;
            default:
                EmbeddingExport.WriteNpyFloats(buffer, table.Bias!, [table.Rows]);
                break;
        }
        string name = $"{id}-{side}{format switch { "csv" => ".csv", "npy" => ".npy", "ids-json" => ".ids.json", _ => "." + format[..^4] + ".npy" }}";
        string contentType = format switch { "csv" => "text/csv", "ids-json" => "application/json", _ => "application/octet-stream" };
        return TypedResults.File(buffer.ToArray(), contentType, name);
    }

    public static Ok<IReadOnlyList<ModelView>> ListModels(JobStore store, ModelRegistry registry)
    {
        IReadOnlyDictionary<string, string> serving = registry.ServingJobs();
        IReadOnlyList<ModelView> models = store.List()
            .Where(IsModel)
            .Select(r => ToView(r, serving.TryGetValue(r.Dataset, out string? s) && s == r.Id, IndexView.Of(r, store, registry)))
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

    private static readonly string[] EmbeddingFormats = ["csv", "npy", "ids-npy", "ids-json", "bias-npy"];

    /// <summary>Null when <paramref name="id"/> names a job with a model; else the 404 or 409 to answer.</summary>
    private static ProblemDetails? FindModel(string id, JobStore store, out JobRecord? record)
    {
        record = store.Find(id);
        if (record is null)
        {
            return JobsApi.JobNotFound(id);
        }
        return IsModel(record) ? null : new ProblemDetails
        {
            Title = "The job has no model",
            Detail = $"Job {id} is {record.State.ToString().ToLowerInvariant()} and has {(record.Checkpoint is null ? "no checkpoint" : "not finished")}; only a finished job with a checkpoint has a model.",
            Status = StatusCodes.Status409Conflict,
        };
    }

    private static ProblemDetails Unloadable(CheckpointException e) => new()
    {
        Title = "The checkpoint cannot be loaded",
        Detail = e.Message,
        Status = StatusCodes.Status409Conflict,
    };

    private static bool IsModel(JobRecord r) => r.State is JobState.Succeeded or JobState.Cancelled && r.Checkpoint is not null && r.BestEpoch > 0;

    private static ModelView ToView(JobRecord r, bool serving, IndexView? index = null) =>
        new(r.Id, r.Dataset, r.State, serving, r.BestEpoch, r.BestValidation, r.Test, r.PopularityTest, r.FinishedAt, r.Checkpoint!, index,
            r.Blend == EaseBlend.Kind && r.State == JobState.Succeeded ? ModelKinds.TwoTowerEase : ModelKinds.TwoTower);
}
