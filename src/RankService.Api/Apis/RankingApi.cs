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
/// <param name="Items">Best first (ranks offset + 1 onwards); never a hidden item nor one of the user's never-recommend items.</param>
/// <param name="Offset">How many of the best items were skipped (paging).</param>
/// <param name="Source">"model" (the user's own ranking) or "popular" (fallback=popular for a user the model does not know; scores are train-set counts).</param>
/// <param name="Approximate">True when the model's approximate index answered (its recall is in GET /models); false for the exact pass.</param>
public sealed record RankingResponse(string UserId, string Dataset, string ModelJobId, int K, bool IncludeSeen, IReadOnlyList<RankedItem> Items,
    int Offset = 0, string Source = "model", bool Approximate = false);

/// <summary><c>/users/{id}/ranking</c>: the top k items for a user from the serving model.</summary>
public static class RankingApi
{
    public static IEndpointRouteBuilder MapRankingApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/users/{id}/ranking", GetRanking)
            .WithTags("Ranking")
            .WithName("GetRanking")
            .WithSummary("Rank items for a user")
            .WithDescription("The top `k` items (1 to the catalogue size, default 10) for a user id as the data set spells it (MovieLens ids are their decimal strings), from the serving model of `dataset` (left out: the configured default data set, Data:DefaultDataset). `offset` skips the best items (paging; offset + k at most the catalogue size). `category` (repeatable) keeps items with any of the given categories; `exclude` is a comma list of item ids never to return; a filter that leaves nothing answers an empty list. Items the user already rated are left out unless `includeSeen=true`; hidden items and the user's never-recommend items always are. Items are named by `itemId`, and also by the number `movieId` when the data set's item ids are all integers (MovieLens). A model with an approximate index (dot head, catalogue of at least Serving:AnnMinItems) answers through it (`approximate: true`; recall in GET /models), filters included, unless `exact=true`. 404 for a user the model does not know, unless `fallback=popular`, which answers the popularity list (`source: popular`); 503 when no model has been trained for the data set yet.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);
        return app;
    }

    public static Results<Ok<RankingResponse>, ValidationProblem, ProblemHttpResult> GetRanking(
        string id, ModelRegistry registry, Jobs.IDatasetProvider datasets, IOptions<DataOptions> data, IOptions<ServingOptions> serving,
        int? k = null, string? dataset = null, bool includeSeen = false, int offset = 0, string[]? category = null,
        string? exclude = null, string? fallback = null, bool exact = false)
    {
        DataOptions d = data.Value;
        // Left out means the configured default, always: a default that moved with the last activation sent one
        // data set's users to another's model.
        string name = dataset ?? d.DefaultDataset;
        // A live data set is rankable once a model of it serves (no database query on this path).
        if (dataset is not null && !d.IsKnown(dataset) && registry.Find(dataset) is null)
        {
            return RecommendationsApi.Invalid("dataset", $"Unknown data set '{Echo.Of(dataset)}'. Configured data sets: {string.Join(", ", d.Datasets)}; a live data set once a model trained on it serves.");
        }
        if (fallback is not null && fallback != "popular")
        {
            return RecommendationsApi.Invalid("fallback", $"fallback must be 'popular' or left out; got '{Echo.Of(fallback)}'.");
        }
        if (offset < 0)
        {
            return RecommendationsApi.Invalid("offset", $"offset must be 0 or more; got {offset}.");
        }
        if (k < 1 && registry.Find(name) is null)
        {
            // A k below 1 is the caller's mistake even before any model exists: a 400, not the 503 below.
            return RecommendationsApi.Invalid("k", $"k must be between 1 and the catalogue size; got {k}.");
        }
        if (registry.Find(name) is not { } model)
        {
            return RecommendationsApi.NoModel(name);
        }
        if (RecommendationsApi.Take(k, offset, model, serving.Value, out int want) is { } badK)
        {
            return badK;
        }
        ItemFilter? filter = category is { Length: > 0 } || !string.IsNullOrEmpty(exclude)
            ? ItemFilter.Create(model, category, exclude?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            : null;
        if (!model.TryGetUser(id, out int user))
        {
            if (fallback == "popular")
            {
                return TypedResults.Ok(new RankingResponse(id, name, model.JobId, want, includeSeen, Popular(model, ModelViews.PopularityOf(model, datasets, d), offset, want, filter), offset, "popular"));
            }
            return RecommendationsApi.UserNotFound(id, name, model);
        }
        // A swap meanwhile is harmless: this model's precomputed arrays stay valid after it is retired.
        RankedItem[] items = Recommender.ForUser(model, user, offset, want, includeSeen, filter, exact, out bool approximate);
        return TypedResults.Ok(new RankingResponse(id, name, model.JobId, want, includeSeen, items, offset, Approximate: approximate));
    }

    /// <summary>The popularity list (train-set counts as scores) past the offset, within the filter.</summary>
    private static RankedItem[] Popular(ServingModel model, Popularity popular, int offset, int k, ItemFilter? filter) =>
        [.. popular.Order.Where(i => filter?.Allows(i) != false).Skip(offset).Take(k)
            .Select((item, r) => Recommender.Named(model, offset + r + 1, item, popular.Counts[item]))];
}
