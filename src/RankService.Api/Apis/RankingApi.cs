using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using RankService.Api.Extensions;
using RankService.Api.Options;
using RankService.Api.Serving;

namespace RankService.Api.Apis;

/// <summary>The answer of <c>GET /users/{id}/ranking</c>.</summary>
/// <param name="UserId">The user id as the data set spells it.</param>
/// <param name="Dataset">The data set whose serving model ranked.</param>
/// <param name="ModelJobId">The job that trained the model that produced this ranking.</param>
/// <param name="IncludeSeen">Whether items the user already rated could appear.</param>
/// <param name="Items">Best first; never a hidden item nor one of the user's never-recommend items.</param>
/// <param name="Approximate">True when the model's approximate index answered (its recall is in GET /models); false for the exact pass.</param>
public sealed record RankingResponse(string UserId, string Dataset, string ModelJobId, int K, bool IncludeSeen, IReadOnlyList<RankedItem> Items, bool Approximate = false);

/// <summary><c>/users/{id}/ranking</c>: the top k items for a user from the serving model.</summary>
public static class RankingApi
{
    public static IEndpointRouteBuilder MapRankingApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/users/{id}/ranking", GetRanking)
            .WithTags("Ranking")
            .WithName("GetRanking")
            .WithSummary("Rank items for a user")
            .WithDescription("The top `k` items (1 to the catalogue size, default 10) for a user id as the data set spells it (MovieLens ids are their decimal strings), from the serving model of `dataset` (default: the data set of the model activated last, else the configured default data set). Items the user already rated are left out unless `includeSeen=true`; hidden items and the user's never-recommend items always are. Items are named by `itemId`, and also by the number `movieId` when the data set's item ids are all integers (MovieLens). A model with an approximate index (dot head, catalogue of at least Serving:AnnMinItems) answers through it (`approximate: true`; recall in GET /models) unless `exact=true`. 404 for a user the model does not know; 503 when no model has been trained for the data set yet.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .RequireApiKeyForRankings(app)
            .RateLimitedBy(RateLimitingExtensions.RankingsPolicy, app);
        return app;
    }

    public static Results<Ok<RankingResponse>, ValidationProblem, ProblemHttpResult> GetRanking(
        string id, ModelRegistry registry, IOptions<DataOptions> data, IOptions<ServingOptions> serving,
        int? k = null, string? dataset = null, bool includeSeen = false, bool exact = false)
    {
        DataOptions d = data.Value;
        string name = dataset ?? registry.LastActivatedDataset ?? d.DefaultDataset;
        // A live data set is rankable once a model of it serves (no database query on this path).
        if (dataset is not null && !d.IsKnown(dataset) && registry.Find(dataset) is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["dataset"] = [$"Unknown data set '{Echo.Of(dataset)}'. Configured data sets: {string.Join(", ", d.Datasets)}; a live data set once a model trained on it serves."],
            });
        }
        if (k < 1 && registry.Find(name) is null)
        {
            // A k below 1 is the caller's mistake even before any model exists: a 400, not the 503 below.
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["k"] = [$"k must be between 1 and the catalogue size; got {k}."],
            });
        }
        int want = k ?? serving.Value.DefaultK;
        if (registry.Find(name) is not { } model)
        {
            return TypedResults.Problem(
                title: "No model to rank with yet",
                detail: $"No model has been trained on '{name}' yet: POST /jobs with {{\"dataset\": \"{name}\"}} to train one, then ask again once it has succeeded.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        if (k is not null && (want < 1 || want > model.ItemCount))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["k"] = [$"k must be between 1 and {model.ItemCount} (the catalogue size); got {want}."],
            });
        }
        want = Math.Min(want, model.ItemCount);
        if (!model.TryGetUser(id, out int user))
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Title = "User not found",
                Detail = $"User '{Echo.Of(id)}' is not in the data set '{name}' that the serving model (job {model.JobId}) was trained on; user ids are matched exactly as the data set spells them (MovieLens: digits only, as in 42).",
                Status = StatusCodes.Status404NotFound,
            });
        }
        // A swap meanwhile is harmless: this model's precomputed arrays stay valid after it is retired.
        RankedItem[] items = Ranker.TopK(model, user, want, includeSeen, exact, out bool approximate);
        return TypedResults.Ok(new RankingResponse(id, name, model.JobId, want, includeSeen, items, approximate));
    }
}
