using System.Globalization;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary>
    /// <c>GET /users/{id}/ranking</c> with every option: paging (<see cref="RankingQuery.Offset"/>), filters
    /// (<see cref="RankingQuery.Categories"/>, <see cref="RankingQuery.Exclude"/>), the popularity fallback for an unknown
    /// user and the exact pass. 404 for an unknown user without the fallback, 503 before any model.
    /// </summary>
    public Task<UserRanking> GetRankingAsync(string userId, RankingQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        List<string> parameters = [$"includeSeen={(query.IncludeSeen ? "true" : "false")}", .. Common(query.K, query.Dataset, query.Categories)];
        if (query.Offset != 0)
        {
            parameters.Add(string.Create(CultureInfo.InvariantCulture, $"offset={query.Offset}"));
        }
        if (query.Exclude is { Count: > 0 } exclude)
        {
            parameters.Add("exclude=" + Uri.EscapeDataString(string.Join(',', exclude)));
        }
        if (query.FallbackToPopular)
        {
            parameters.Add("fallback=popular");
        }
        if (query.Exact)
        {
            parameters.Add("exact=true");
        }
        return GetAsync<UserRanking>($"users/{Segment(userId)}/ranking?{string.Join('&', parameters)}", cancellationToken);
    }

    /// <summary><c>POST /sessions/ranking</c>: the top items for a user the model never saw, folded in from their items.</summary>
    public Task<SessionRanking> RankSessionAsync(SessionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PostJsonAsync<SessionRequest, SessionRanking>("sessions/ranking", request, cancellationToken);
    }

    /// <summary><c>GET /items/{id}/similar</c>: the items whose vectors are closest (cosine) to the item's; 404 for an unknown item.</summary>
    public Task<SimilarItems> GetSimilarItemsAsync(string itemId, int? k = null, string? dataset = null, IReadOnlyList<string>? categories = null,
        CancellationToken cancellationToken = default) =>
        GetAsync<SimilarItems>(Query($"items/{Segment(itemId)}/similar", k, dataset, categories), cancellationToken);

    /// <summary><c>GET /users/{id}/similar</c>: the users whose vectors are closest (cosine) to the user's; 404 for an unknown user.</summary>
    public Task<SimilarUsers> GetSimilarUsersAsync(string userId, int? k = null, string? dataset = null, CancellationToken cancellationToken = default) =>
        GetAsync<SimilarUsers>(Query($"users/{Segment(userId)}/similar", k, dataset, null), cancellationToken);

    /// <summary>
    /// <c>GET /items/popular</c>: items by their interactions in the serving model's training data, or, with
    /// <paramref name="window"/> (<c>7d</c>, <c>24h</c>, <c>P7D</c>) on a live data set, by their positive feedback within it.
    /// </summary>
    public Task<ItemList> GetPopularItemsAsync(int? k = null, string? dataset = null, IReadOnlyList<string>? categories = null,
        string? window = null, CancellationToken cancellationToken = default)
    {
        string query = Query("items/popular", k, dataset, categories);
        if (window is not null)
        {
            query += (query.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "window=" + Uri.EscapeDataString(window);
        }
        return GetAsync<ItemList>(query, cancellationToken);
    }

    /// <summary><c>GET /items/latest</c>: items with a timestamp, newest first.</summary>
    public Task<ItemList> GetLatestItemsAsync(int? k = null, string? dataset = null, IReadOnlyList<string>? categories = null,
        CancellationToken cancellationToken = default) =>
        GetAsync<ItemList>(Query("items/latest", k, dataset, categories), cancellationToken);

    /// <summary><c>POST /users/{id}/rerank</c>: the caller's candidates in the model's order for the user.</summary>
    public Task<Reranking> RerankAsync(string userId, IReadOnlyList<string> items, string? dataset = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return PostJsonAsync<RerankBody, Reranking>($"users/{Segment(userId)}/rerank", new RerankBody(items, dataset), cancellationToken);
    }

    /// <summary><c>POST /rankings</c>: up to 1,000 users ranked together, one result per user in request order.</summary>
    public Task<BatchRanking> RankUsersAsync(BatchRankingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PostJsonAsync<BatchRankingRequest, BatchRanking>("rankings", request, cancellationToken);
    }

    private static string Query(string path, int? k, string? dataset, IReadOnlyList<string>? categories)
    {
        List<string> parameters = Common(k, dataset, categories);
        return parameters.Count == 0 ? path : $"{path}?{string.Join('&', parameters)}";
    }

    /// <summary>The k, dataset and category parameters, escaped; those left null are left out.</summary>
    private static List<string> Common(int? k, string? dataset, IReadOnlyList<string>? categories)
    {
        var parameters = new List<string>();
        if (k is not null)
        {
            parameters.Add(string.Create(CultureInfo.InvariantCulture, $"k={k}"));
        }
        if (dataset is not null)
        {
            parameters.Add("dataset=" + Uri.EscapeDataString(dataset));
        }
        parameters.AddRange((categories ?? []).Select(c => "category=" + Uri.EscapeDataString(c)));
        return parameters;
    }

    private sealed record RerankBody(IReadOnlyList<string> Items, string? Dataset);
}

/// <summary>The options of <c>GET /users/{id}/ranking</c>; null or default fields take the service's defaults.</summary>
public sealed record RankingQuery
{
    /// <summary>How many items (default Serving:DefaultK).</summary>
    public int? K { get; init; }

    /// <summary>The data set; null: Data:DefaultDataset.</summary>
    public string? Dataset { get; init; }

    /// <summary>Skip this many of the best items (paging).</summary>
    public int Offset { get; init; }

    public bool IncludeSeen { get; init; }

    /// <summary>Only items with any of these categories.</summary>
    public IReadOnlyList<string>? Categories { get; init; }

    /// <summary>Item ids never to return.</summary>
    public IReadOnlyList<string>? Exclude { get; init; }

    /// <summary>Answer the popularity list (<see cref="UserRanking.Source"/> <c>popular</c>) for a user the model does not know, instead of a 404.</summary>
    public bool FallbackToPopular { get; init; }

    /// <summary>Skip the approximate index.</summary>
    public bool Exact { get; init; }
}

/// <summary>One item of a session: its id as the data set spells it, and optionally its value (a rating; null: a positive interaction).</summary>
public sealed record SessionItem(string Id, float? Value = null);

/// <summary>The body of <c>POST /sessions/ranking</c>: the items the user interacted with (1 to 1,000), most recent last.</summary>
public sealed record SessionRequest(IReadOnlyList<SessionItem> Items, string? Dataset = null, int? K = null, IReadOnlyList<string>? Category = null,
    IReadOnlyList<string>? Exclude = null);

/// <summary>The answer of <c>POST /sessions/ranking</c>; <see cref="UnknownItems"/> are given ids the model does not know.</summary>
public sealed record SessionRanking(string Dataset, string ModelJobId, int K, IReadOnlyList<RankedItem> Items, IReadOnlyList<string> UnknownItems);

/// <summary>The answer of <c>GET /items/{id}/similar</c>; scores are cosine similarities; <see cref="Compared"/> says which vectors.</summary>
public sealed record SimilarItems(string ItemId, string Dataset, string ModelJobId, string Compared, IReadOnlyList<RankedItem> Items);

/// <summary>One neighbour of a user; <see cref="Score"/> the cosine similarity.</summary>
public sealed record SimilarUser(int Rank, string UserId, float Score);

/// <summary>The answer of <c>GET /users/{id}/similar</c>.</summary>
public sealed record SimilarUsers(string UserId, string Dataset, string ModelJobId, string Compared, IReadOnlyList<SimilarUser> Users);

/// <summary>One item of the popular or latest list: <see cref="Count"/> interactions (popular) or <see cref="Timestamp"/> (latest).</summary>
public sealed record ListedItem(int Rank, string ItemId, long? MovieId, string Title, int? Count = null, long? Timestamp = null);

/// <summary>The answer of <c>GET /items/popular</c> and <c>GET /items/latest</c>; <see cref="Source"/> train-counts, seen-counts, recent-feedback or timestamps.</summary>
public sealed record ItemList(string Dataset, string ModelJobId, string Source, IReadOnlyList<ListedItem> Items);

/// <summary>The answer of <c>POST /users/{id}/rerank</c>: the known candidates in the model's order; the rest by name.</summary>
/// <param name="Excluded">Candidates never recommended to this user (hidden or negative feedback).</param>
/// <param name="UnknownItems">Candidates the model does not know.</param>
public sealed record Reranking(string UserId, string Dataset, string ModelJobId, IReadOnlyList<RankedItem> Items, IReadOnlyList<string> Excluded,
    IReadOnlyList<string> UnknownItems);

/// <summary>The body of <c>POST /rankings</c>: 1 to 1,000 user ids, each ranked as GET /users/{id}/ranking would.</summary>
public sealed record BatchRankingRequest(IReadOnlyList<string> Users, string? Dataset = null, int? K = null, bool IncludeSeen = false,
    IReadOnlyList<string>? Category = null, IReadOnlyList<string>? Exclude = null);

/// <summary>One user's result of <c>POST /rankings</c>; <see cref="Found"/> false for a user the model does not know.</summary>
public sealed record BatchUserRanking(string UserId, bool Found, IReadOnlyList<RankedItem> Items);

/// <summary>The answer of <c>POST /rankings</c>: one result per requested user, in request order.</summary>
public sealed record BatchRanking(string Dataset, string ModelJobId, int K, bool IncludeSeen, IReadOnlyList<BatchUserRanking> Results);
