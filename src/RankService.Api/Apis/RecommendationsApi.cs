using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using RankService.Api.Extensions;
using RankService.Api.Options;
using RankService.Api.Serving;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace RankService.Api.Apis;

/// <summary>One item of a session: an item id as the data set spells it, and optionally its value.</summary>
/// <param name="Id" example="50">An item id as the data set spells it.</param>
/// <param name="Value" example="5">A rating (the training label); left out means a positive interaction (1).</param>
public sealed record SessionItemRequest(string? Id = null, float? Value = null);

/// <summary>The body of <c>POST /sessions/ranking</c>.</summary>
/// <param name="Dataset" example="ml-100k">The data set whose serving model folds the user in; left out: Data:DefaultDataset.</param>
/// <param name="Items" example='[{"id": "50", "value": 5}, {"id": "181", "value": 4}, {"id": "172"}]'>The items the user interacted with (1 to 1,000), the most recent last.</param>
/// <param name="K" example="10">How many items (1 to the catalogue size; default Serving:DefaultK).</param>
/// <param name="Category" example='["Comedy", "Drama"]'>Only items with any of these categories.</param>
/// <param name="Exclude" example='["50"]'>Item ids never to return.</param>
public sealed record SessionRankingRequest(string? Dataset = null, IReadOnlyList<SessionItemRequest?>? Items = null, int? K = null,
    IReadOnlyList<string?>? Category = null, IReadOnlyList<string?>? Exclude = null);

/// <summary>The answer of <c>POST /sessions/ranking</c>.</summary>
/// <param name="Items">Best first; never a given item, a hidden item or one the filters leave out.</param>
/// <param name="UnknownItems">Given ids the model does not know: reported, not used.</param>
public sealed record SessionRankingResponse(string Dataset, string ModelJobId, int K, IReadOnlyList<RankedItem> Items, IReadOnlyList<string> UnknownItems);

/// <summary>The answer of <c>GET /items/{id}/similar</c>.</summary>
/// <param name="Compared">Which vectors the cosine compares (depends on the model's head).</param>
/// <param name="Items">Most similar first; <c>score</c> is the cosine similarity.</param>
public sealed record SimilarItemsResponse(string ItemId, string Dataset, string ModelJobId, string Compared, IReadOnlyList<RankedItem> Items);

/// <summary>One neighbour of a user.</summary>
/// <param name="Score">Cosine similarity of the two users' vectors.</param>
public sealed record SimilarUser(int Rank, string UserId, float Score);

/// <summary>The answer of <c>GET /users/{id}/similar</c>.</summary>
public sealed record SimilarUsersResponse(string UserId, string Dataset, string ModelJobId, string Compared, IReadOnlyList<SimilarUser> Users);

/// <summary>One item of a list that is not a model's ranking.</summary>
/// <param name="Count">Interactions in the serving model's train split (popular).</param>
/// <param name="Timestamp">Published, Unix seconds (latest).</param>
public sealed record ListedItem(int Rank, string ItemId,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? MovieId,
    string Title,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? Count,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? Timestamp);

/// <summary>The answer of <c>GET /items/popular</c> and <c>GET /items/latest</c>.</summary>
/// <param name="Source">"train-counts" or "seen-counts" (popular; see its description) or "timestamps" (latest).</param>
public sealed record ItemListResponse(string Dataset, string ModelJobId, string Source, IReadOnlyList<ListedItem> Items);

/// <summary>The body of <c>POST /users/{id}/rerank</c>.</summary>
/// <param name="Items" example='["50", "181", "172", "1"]'>The caller's candidate item ids (1 to 10,000).</param>
/// <param name="Dataset" example="ml-100k">Left out: Data:DefaultDataset.</param>
public sealed record RerankRequest(IReadOnlyList<string?>? Items = null, string? Dataset = null);

/// <summary>The answer of <c>POST /users/{id}/rerank</c>.</summary>
/// <param name="Items">The known candidates in the model's order, with scores (seen items included).</param>
/// <param name="Excluded">Candidates never recommended to this user (hidden or negative feedback), left out.</param>
/// <param name="UnknownItems">Candidates the model does not know, last, by name.</param>
public sealed record RerankResponse(string UserId, string Dataset, string ModelJobId, IReadOnlyList<RankedItem> Items,
    IReadOnlyList<string> Excluded, IReadOnlyList<string> UnknownItems);

/// <summary>The body of <c>POST /rankings</c>.</summary>
/// <param name="Dataset" example="ml-100k">Left out: Data:DefaultDataset.</param>
/// <param name="Users" example='["1", "2", "3"]'>1 to 1,000 user ids as the data set spells them.</param>
/// <param name="K" example="10">Per user (1 to the catalogue size; default Serving:DefaultK).</param>
/// <param name="IncludeSeen">Whether items a user already rated may appear.</param>
/// <param name="Category" example='["Comedy", "Drama"]'>Only items with any of these categories.</param>
/// <param name="Exclude" example='["50"]'>Item ids never to return.</param>
public sealed record BatchRankingRequest(string? Dataset = null, IReadOnlyList<string?>? Users = null, int? K = null, bool IncludeSeen = false,
    IReadOnlyList<string?>? Category = null, IReadOnlyList<string?>? Exclude = null);

/// <summary>One user's result in <c>POST /rankings</c>.</summary>
/// <param name="Found">False for a user the model does not know (then <c>items</c> is empty).</param>
public sealed record BatchUserRanking(string UserId, bool Found, IReadOnlyList<RankedItem> Items);

/// <summary>The answer of <c>POST /rankings</c>: one result per requested user, in request order.</summary>
public sealed record BatchRankingResponse(string Dataset, string ModelJobId, int K, bool IncludeSeen, IReadOnlyList<BatchUserRanking> Results);

/// <summary>
/// The recommendation endpoints beyond one user's ranking: sessions (fold-in), similar items and users, popular and
/// latest items, re-ranking a caller's candidates and batches of users, all on the serving model of a data set.
/// </summary>
public static class RecommendationsApi
{
    public const int MaxBatchUsers = 1000;
    public const int MaxSessionItems = 1000;
    public const int MaxCandidates = 10_000;

    public static IEndpointRouteBuilder MapRecommendationsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/sessions/ranking", RankSession)
            .WithTags("Ranking").WithName("RankSession")
            .WithSummary("Rank items for a user the model never saw")
            .WithDescription("Folds a new user into the serving model of `dataset` from the items they interacted with (`items`: ids as the data set spells them, optional `value`): with the item side frozen, the user vector the trained loss prefers for those items, then the top `k` items, leaving out the given items, hidden items and what `category`/`exclude` filter out. Unknown item ids are listed in `unknownItems`, not fatal; 400 when none is known or the list is empty.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);

        app.MapGet("/items/{id}/similar", SimilarItems)
            .WithTags("Items").WithName("GetSimilarItems")
            .WithSummary("Items like an item")
            .WithDescription("The `k` items whose vectors have the highest cosine similarity with item `id`'s (never the item itself nor a hidden item), optionally only those with any of the `category` values. With the `dot` head the vectors are the item tower's outputs (bias left out); with `concat-mlp` they are the item half of the head's first layer (W_i e_i), the part of the MLP input each item contributes; `compared` says which. 404 for an unknown item.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);

        app.MapGet("/users/{id}/similar", SimilarUsers)
            .WithTags("Ranking").WithName("GetSimilarUsers")
            .WithSummary("Users like a user")
            .WithDescription("The `k` users whose vectors have the highest cosine similarity with user `id`'s (the user tower's output with `dot`, the user half of the head's first layer with `concat-mlp`). 404 for an unknown user.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);

        app.MapGet("/items/popular", PopularItems)
            .WithTags("Items").WithName("GetPopularItems")
            .WithSummary("The most interacted-with items")
            .WithDescription("Items by their number of interactions in the train split the serving model was trained on (its protocol and split seed, so held-out validation and test items are not counted; `source: train-counts`; ties by catalogue order), hidden items left out, optionally only those with any of the `category` values. When the data set is live or has changed since training, every rated item the checkpoint holds is counted instead (`source: seen-counts`). On a live data set, `window` (`7d`, `24h`, `90m`, `2w` or an ISO 8601 duration such as `P7D`) counts instead the feedback events of a positive type (a rating above 0) timed within that window before now (`source: recent-feedback`; feedback without a timestamp is not counted, counts are at most 5 s old, only items the serving model knows are listed and only those with at least one such event).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);

        app.MapGet("/items/latest", LatestItems)
            .WithTags("Items").WithName("GetLatestItems")
            .WithSummary("The newest items")
            .WithDescription("Items with a timestamp (live data sets; MovieLens releases with dates), newest first, hidden items left out, optionally only those with any of the `category` values. Items without a timestamp are not listed.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);

        app.MapPost("/users/{id}/rerank", Rerank)
            .WithTags("Ranking").WithName("RerankForUser")
            .WithSummary("Order a caller's candidates for a user")
            .WithDescription("The known candidates in the model's order for user `id`, with scores: the order of GET /users/{id}/ranking?includeSeen=true restricted to them. Hidden and never-recommend candidates are left out and listed in `excluded`; unknown ids are listed last in `unknownItems`. 404 for an unknown user.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);

        app.MapPost("/rankings", RankUsers)
            .WithTags("Ranking").WithName("RankUsers")
            .WithSummary("Rank items for many users at once")
            .WithDescription("Up to 1,000 users scored together; one result per user in request order, each equal to GET /users/{id}/ranking with the same `k`, `includeSeen`, `category` and `exclude`. Users the model does not know come back with `found: false`, without failing the batch.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ServesRankings(app);
        return app;
    }

    /// <summary>
    /// What every endpoint that serves a model's rankings shares, in one place so a new one cannot miss half of it:
    /// the rankings API key rule (Security:RequireKeyForRankings), the rankings rate limit, and the
    /// <see cref="RankingEndpoint"/> mark (its successful answers log at Debug).
    /// </summary>
    public static RouteHandlerBuilder ServesRankings(this RouteHandlerBuilder builder, IEndpointRouteBuilder app) =>
        builder.RequireApiKeyForRankings(app).RateLimitedBy(RateLimitingExtensions.RankingsPolicy, app).WithMetadata(RankingEndpoint.Instance);

    public static Results<Ok<SessionRankingResponse>, ValidationProblem, ProblemHttpResult> RankSession(
        SessionRankingRequest request, ModelRegistry registry, ISessionFoldIn foldIn, IOptions<DataOptions> data, IOptions<ServingOptions> serving)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Items is not { Count: > 0 } items)
        {
            return Invalid("items", "A session needs at least one item: [{\"id\": \"<item id>\", \"value\": 5}].");
        }
        if (items.Count > MaxSessionItems)
        {
            return Invalid("items", $"At most {MaxSessionItems} items per session; got {items.Count}.");
        }
        if (items.Any(i => i?.Id is null))
        {
            return Invalid("items", "Every item needs an \"id\".");
        }
        if (items.FirstOrDefault(i => i!.Value is { } v && !float.IsFinite(v)) is { } bad)
        {
            return Invalid("items", $"Item '{Echo.Of(bad.Id)}' has a value that is not a finite number.");
        }
        if ((ListProblem(request.Category, "category") ?? ListProblem(request.Exclude, "exclude")) is { } listProblem)
        {
            return listProblem;
        }
        if (Serving(request.Dataset, registry, data.Value, out ServingModel? model, out string name) is { } unavailable)
        {
            return Fail<SessionRankingResponse>(unavailable);
        }
        if (Take(request.K, 0, model!, serving.Value, out int k) is { } badK)
        {
            return badK;
        }
        var known = new List<SessionItem>(items.Count);
        var unknown = new List<string>();
        foreach (SessionItemRequest item in items!)
        {
            if (model!.TryGetItem(item.Id!, out int index))
            {
                known.Add(new SessionItem(index, item.Value));
            }
            else
            {
                unknown.Add(item.Id!);
            }
        }
        if (known.Count == 0)
        {
            return Invalid("items", $"None of the items is in the catalogue of '{name}' (unknown: {Echo.Of(string.Join(", ", unknown.Take(10)))}).");
        }
        float[] scores = new float[model!.ItemCount];
        try
        {
            foldIn.Score(model, known, scores);
        }
        catch (FoldInUnavailableException e)
        {
            return TypedResults.Problem(title: "Fold-in not available", detail: e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        ItemFilter? filter = ItemFilter.Create(model, NonNull(request.Category), NonNull(request.Exclude));
        int[] given = [.. known.Select(i => i.Item).Distinct().Order()];
        ReadOnlySpan<int> excluded = FixedExcluded(model, filter, given);
        return TypedResults.Ok(new SessionRankingResponse(name, model.JobId, k, Recommender.Rank(model, scores, excluded, 0, k), unknown));
    }

    public static Results<Ok<SimilarItemsResponse>, ValidationProblem, ProblemHttpResult> SimilarItems(
        string id, ModelRegistry registry, IOptions<DataOptions> data, IOptions<ServingOptions> serving,
        int? k = null, string? dataset = null, string[]? category = null)
    {
        if (Serving(dataset, registry, data.Value, out ServingModel? model, out string name) is { } unavailable)
        {
            return Fail<SimilarItemsResponse>(unavailable);
        }
        if (Take(k, 0, model!, serving.Value, out int want) is { } badK)
        {
            return badK;
        }
        if (!model!.TryGetItem(id, out int item))
        {
            return NotFound("Item not found", $"Item '{Echo.Of(id)}' is not in the catalogue of '{name}' that the serving model (job {model.JobId}) was trained on; item ids are matched exactly as the data set spells them.");
        }
        float[] scores = Recommender.Scores(model.ItemCount);
        ModelViews.Of(model).ItemCosines(item, scores);
        ItemFilter? filter = ItemFilter.Create(model, category, null);
        ReadOnlySpan<int> excluded = model.HiddenSpan.IsEmpty && filter is null ? [item] : FixedExcluded(model, filter, [item]);
        return TypedResults.Ok(new SimilarItemsResponse(id, name, model.JobId, Compared(model, "item"),
            Recommender.Rank(model, scores.AsSpan(0, model.ItemCount), excluded, 0, want)));
    }

    public static Results<Ok<SimilarUsersResponse>, ValidationProblem, ProblemHttpResult> SimilarUsers(
        string id, ModelRegistry registry, IOptions<DataOptions> data, IOptions<ServingOptions> serving,
        int? k = null, string? dataset = null)
    {
        if (Serving(dataset, registry, data.Value, out ServingModel? model, out string name) is { } unavailable)
        {
            return Fail<SimilarUsersResponse>(unavailable);
        }
        int users = model!.Scorer.UserCount;
        int want = k ?? serving.Value.DefaultK;
        if (want < 1 || want >= users && k is not null)
        {
            return Invalid("k", $"k must be between 1 and {users - 1} (the other users); got {want}.");
        }
        want = Math.Min(want, users - 1);
        if (!model.TryGetUser(id, out int user))
        {
            return UserNotFound(id, name, model);
        }
        int d = model.Scorer.Width;
        ReadOnlySpan<float> unit = ModelViews.Of(model).UnitUsers();
        var scores = new float[users];
        ReadOnlySpan<float> self = unit.Slice(user * d, d);
        for (int u = 0; u < users; u++)
        {
            scores[u] = TensorPrimitives.Dot(self, unit.Slice(u * d, d));
        }
        // Forgotten users must not come back: ask for more until k remain (each pass is one partial top-k).
        var neighbours = new List<SimilarUser>(want);
        for (int ask = want; neighbours.Count < want; ask = Math.Min(users - 1, ask * 2))
        {
            var top = new int[ask];
            int count = Ranking.Model.TopK.Select(scores, [user], ask, top);
            neighbours.Clear();
            foreach (int other in top.AsSpan(0, count))
            {
                string otherId = model.Ids.UserIds[other];
                if (neighbours.Count < want && model.TryGetUser(otherId, out _))
                {
                    neighbours.Add(new SimilarUser(neighbours.Count + 1, otherId, scores[other]));
                }
            }
            if (ask >= users - 1)
            {
                break;
            }
        }
        return TypedResults.Ok(new SimilarUsersResponse(id, name, model.JobId, Compared(model, "user"), neighbours));
    }

    public static async Task<Results<Ok<ItemListResponse>, ValidationProblem, ProblemHttpResult>> PopularItems(
        ModelRegistry registry, Jobs.IDatasetProvider datasets, RecentPopularity recent, IOptions<DataOptions> data, IOptions<ServingOptions> serving,
        CancellationToken cancellationToken, int? k = null, string? dataset = null, string[]? category = null, string? window = null)
    {
        TimeSpan? span = null;
        if (window is not null && (span = RecentPopularity.ParseWindow(window, out string? badWindow)) is null)
        {
            return Invalid("window", badWindow!);
        }
        if (Serving(dataset, registry, data.Value, out ServingModel? model, out string name) is { } unavailable)
        {
            return Fail<ItemListResponse>(unavailable);
        }
        if (Take(k, 0, model!, serving.Value, out int want) is { } badK)
        {
            return badK;
        }
        Popularity popular;
        if (span is { } recentWindow)
        {
            if (await recent.CountsAsync(name, recentWindow, cancellationToken) is not { } counts)
            {
                return Invalid("window", $"'{name}' is a file data set: a window counts the recent feedback of a live data set. Leave window out for the counts of the serving model's train split.");
            }
            popular = RecentPopularity.Over(model!, counts);
        }
        else
        {
            popular = ModelViews.PopularityOf(model!, datasets, data.Value);
        }
        return TypedResults.Ok(new ItemListResponse(name, model!.JobId, popular.Source,
            List(model, popular.Order, category, want, i => new ListedItem(0, "", null, "", popular.Counts[i], null))));
    }

    public static Results<Ok<ItemListResponse>, ValidationProblem, ProblemHttpResult> LatestItems(
        ModelRegistry registry, IOptions<DataOptions> data, IOptions<ServingOptions> serving,
        int? k = null, string? dataset = null, string[]? category = null)
    {
        if (Serving(dataset, registry, data.Value, out ServingModel? model, out string name) is { } unavailable)
        {
            return Fail<ItemListResponse>(unavailable);
        }
        if (Take(k, 0, model!, serving.Value, out int want) is { } badK)
        {
            return badK;
        }
        return TypedResults.Ok(new ItemListResponse(name, model!.JobId, "timestamps",
            List(model, ModelViews.Of(model).Latest, category, want, i => new ListedItem(0, "", null, "", null, model.Item(i).Timestamp))));
    }

    public static Results<Ok<RerankResponse>, ValidationProblem, ProblemHttpResult> Rerank(
        string id, RerankRequest request, ModelRegistry registry, IOptions<DataOptions> data)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Items is not { Count: > 0 } items)
        {
            return Invalid("items", "Give at least one candidate item id: {\"items\": [\"50\", \"181\"]}.");
        }
        if (items.Count > MaxCandidates)
        {
            return Invalid("items", $"At most {MaxCandidates} candidates; got {items.Count}.");
        }
        if (items.Any(i => i is null))
        {
            return Invalid("items", "Candidate ids must be strings, not null.");
        }
        if (Serving(request.Dataset, registry, data.Value, out ServingModel? model, out string name) is { } unavailable)
        {
            return Fail<RerankResponse>(unavailable);
        }
        if (!model!.TryGetUser(id, out int user))
        {
            return UserNotFound(id, name, model);
        }
        float[] scores = Recommender.Scores(model.ItemCount);
        model.ScoreUser(user, scores);
        var never = new HashSet<int>(Ranker.Excluded(model, user, includeSeen: true).ToArray());
        var candidates = new List<int>();
        var seenIds = new HashSet<string>(StringComparer.Ordinal);
        var excluded = new List<string>();
        var unknown = new List<string>();
        foreach (string candidate in items!.Where(i => seenIds.Add(i!))!)
        {
            if (!model.TryGetItem(candidate, out int item))
            {
                unknown.Add(candidate);
            }
            else if (never.Contains(item))
            {
                excluded.Add(candidate);
            }
            else
            {
                candidates.Add(item);
            }
        }
        // The single ranking's order: score descending, ties by lower item index.
        candidates.Sort((a, b) => scores[b].CompareTo(scores[a]) is var c && c != 0 ? c : a.CompareTo(b));
        RankedItem[] ranked = [.. candidates.Select((item, r) => Recommender.Named(model, r + 1, item, scores[item]))];
        return TypedResults.Ok(new RerankResponse(id, name, model.JobId, ranked, excluded, unknown));
    }

    public static Results<Ok<BatchRankingResponse>, ValidationProblem, ProblemHttpResult> RankUsers(
        BatchRankingRequest request, ModelRegistry registry, IOptions<DataOptions> data, IOptions<ServingOptions> serving)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Users is not { Count: > 0 } users)
        {
            return Invalid("users", $"Give 1 to {MaxBatchUsers} user ids: {{\"users\": [\"1\", \"2\"]}}.");
        }
        if (users.Count > MaxBatchUsers)
        {
            return Invalid("users", $"At most {MaxBatchUsers} users per request; got {users.Count}.");
        }
        if (users.Any(u => u is null))
        {
            return Invalid("users", "User ids must be strings, not null.");
        }
        if ((ListProblem(request.Category, "category") ?? ListProblem(request.Exclude, "exclude")) is { } listProblem)
        {
            return listProblem;
        }
        if (Serving(request.Dataset, registry, data.Value, out ServingModel? model, out string name) is { } unavailable)
        {
            return Fail<BatchRankingResponse>(unavailable);
        }
        if (Take(request.K, 0, model!, serving.Value, out int k) is { } badK)
        {
            return badK;
        }
        int[] index = new int[users.Count];
        int found = 0;
        for (int u = 0; u < users.Count; u++)
        {
            index[u] = model!.TryGetUser(users[u]!, out int i) ? i : -1;
            found += index[u] >= 0 ? 1 : 0;
        }
        int[] known = new int[found];
        for (int u = 0, r = 0; u < users.Count; u++)
        {
            if (index[u] >= 0)
            {
                known[r++] = index[u];
            }
        }
        // The known users as one blocked [users, items] product, then one top-k per user.
        ItemFilter? filter = ItemFilter.Create(model!, NonNull(request.Category), NonNull(request.Exclude));
        RankedItem[][] ranked = Recommender.ForUsers(model!, known, k, request.IncludeSeen, filter);
        var results = new BatchUserRanking[users.Count];
        for (int u = 0, row = 0; u < users.Count; u++)
        {
            results[u] = index[u] < 0 ? new BatchUserRanking(users[u]!, false, []) : new BatchUserRanking(users[u]!, true, ranked[row++]);
        }
        return TypedResults.Ok(new BatchRankingResponse(name, model!.JobId, k, request.IncludeSeen, results));
    }

    /// <summary>
    /// The serving model of <paramref name="dataset"/> (left out: the configured default data set, never the one
    /// activated last), or the problem to answer: 400 for an unknown data set, 503 before its first model.
    /// </summary>
    internal static ProblemOrInvalid? Serving(string? dataset, ModelRegistry registry, DataOptions data, out ServingModel? model, out string name)
    {
        name = dataset ?? data.DefaultDataset;
        model = null;
        model = registry.Find(name);
        // A live data set is served once a model trained on it serves (no database query on this path).
        if (dataset is not null && !data.IsKnown(dataset) && model is null)
        {
            return Invalid("dataset", $"Unknown data set '{Echo.Of(dataset)}'. Configured data sets: {string.Join(", ", data.Datasets)}; a live data set once a model trained on it serves.");
        }
        if (model is null)
        {
            return NoModel(name);
        }
        return null;
    }

    /// <summary>k (default Serving:DefaultK, capped at what the catalogue holds past the offset) or the 400 for a k out of range.</summary>
    internal static ValidationProblem? Take(int? k, int offset, ServingModel model, ServingOptions serving, out int want)
    {
        int room = model.ItemCount - offset;
        want = k ?? Math.Min(serving.DefaultK, room);
        if (room < 1)
        {
            return Invalid("offset", $"offset must be below {model.ItemCount} (the catalogue size); got {offset}.");
        }
        if (want < 1 || want > room)
        {
            return offset > 0 && want >= 1
                ? Invalid("k", $"offset + k must be at most {model.ItemCount} (the catalogue size); got {offset} + {want}.")
                : Invalid("k", $"k must be between 1 and {model.ItemCount} (the catalogue size); got {want}.");
        }
        return null;
    }

    internal static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });

    internal static ProblemHttpResult NoModel(string name) => TypedResults.Problem(
        title: "No model to rank with yet",
        detail: $"No model has been trained on '{name}' yet: POST /jobs with {{\"dataset\": \"{name}\"}} to train one, then ask again once it has succeeded.",
        statusCode: StatusCodes.Status503ServiceUnavailable);

    internal static ProblemHttpResult UserNotFound(string id, string name, ServingModel model) => NotFound("User not found",
        $"User '{Echo.Of(id)}' is not in the data set '{name}' that the serving model (job {model.JobId}) was trained on; user ids are matched exactly as the data set spells them (MovieLens: digits only, as in 42).");

    private static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Title = title, Detail = detail, Status = StatusCodes.Status404NotFound });

    private static ValidationProblem? ListProblem(IReadOnlyList<string?>? values, string field) =>
        values is not null && values.Any(v => v is null) ? Invalid(field, $"{field} must hold strings, not null.") : null;

    private static string[]? NonNull(IReadOnlyList<string?>? values) => values is null ? null : [.. values.OfType<string>()];

    private static string Compared(ServingModel model, string side) => model.Manifest.Model.Head switch
    {
        Ranking.Model.ScoringHead.ConcatMlp => $"cosine of the {side} half of the concat-mlp head's first layer",
        _ => $"cosine of the {side} tower's outputs",
    };

    private static List<ListedItem> List(ServingModel model, IReadOnlyList<int> order, string[]? category, int k, Func<int, ListedItem> value)
    {
        ItemFilter? filter = ItemFilter.Create(model, category, null);
        var items = new List<ListedItem>(k);
        foreach (int item in order)
        {
            if (items.Count == k)
            {
                break;
            }
            if (filter is null || filter.Allows(item))
            {
                items.Add(value(item) with
                {
                    Rank = items.Count + 1,
                    ItemId = model.Ids.ItemIds[item],
                    MovieId = model.ItemNumbers?[item],
                    Title = model.Ids.Titles[item],
                });
            }
        }
        return items;
    }

    /// <summary>Hidden items, a few fixed items and a caller's filter as one ascending exclusion list.</summary>
    private static ReadOnlySpan<int> FixedExcluded(ServingModel model, ItemFilter? filter, int[] items)
    {
        int[] fixedItems = [.. model.HiddenItems.Concat(items).Distinct().Order()];
        return filter is null ? fixedItems : filter.Excluding(fixedItems, model.ItemCount);
    }

    /// <summary>A failed lookup as the endpoint's result.</summary>
    internal static Results<Ok<T>, ValidationProblem, ProblemHttpResult> Fail<T>(ProblemOrInvalid failure) =>
        failure.Invalid is { } invalid ? invalid : failure.Problem!;
}

/// <summary>Either answer of a failed lookup: a 400 (ValidationProblem) or another problem (404, 503).</summary>
internal readonly struct ProblemOrInvalid
{
    private ProblemOrInvalid(ValidationProblem? invalid, ProblemHttpResult? problem)
    {
        Invalid = invalid;
        Problem = problem;
    }

    public ValidationProblem? Invalid { get; }
    public ProblemHttpResult? Problem { get; }

    public static implicit operator ProblemOrInvalid(ValidationProblem invalid) => new(invalid, null);
    public static implicit operator ProblemOrInvalid(ProblemHttpResult problem) => new(null, problem);
}

/// <summary>
/// Endpoint metadata marking an endpoint that serves rankings (<see cref="RecommendationsApi.ServesRankings"/>): the
/// request log writes its successful answers at Debug, since at thousands of answers a second an Information line each
/// would cost more than the ranking.
/// </summary>
public sealed class RankingEndpoint
{
    public static RankingEndpoint Instance { get; } = new();

    private RankingEndpoint()
    {
    }
}
