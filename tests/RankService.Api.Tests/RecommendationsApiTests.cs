using System.Text;
using RankService.Api.Serving;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;

namespace RankService.Api.Tests;

/// <summary>A host that trained one small model on the synthetic set with the given head.</summary>
public abstract class RecommendationsService(object job) : ServiceFixture(trainFirst: job)
{
    /// <summary>The host's synthetic data set, generated here the same way: item categories for reference filters.</summary>
    public RatingDataset Data { get; } = SyntheticMovieLens.Generate(ApiHost.Synthetic);
}

public sealed class DotRecommendationsService() : RecommendationsService(new { dataset = "synthetic", epochs = 3 });

public sealed class ConcatMlpRecommendationsService() : RecommendationsService(new { dataset = "synthetic", epochs = 3, head = "concat-mlp", hiddenSizes = new[] { 16 } });

public sealed class DotRecommendationsTests(DotRecommendationsService service) : RecommendationsTests(service), IClassFixture<DotRecommendationsService>;

public sealed class ConcatMlpRecommendationsTests(ConcatMlpRecommendationsService service) : RecommendationsTests(service), IClassFixture<ConcatMlpRecommendationsService>
{
    [Fact]
    public async Task Similar_items_say_they_compare_the_item_half_of_the_heads_first_layer()
    {
        SimilarItemsResponse similar = (await Client.GetFromJsonAsync<SimilarItemsResponse>("/items/5/similar?k=3", ApiHost.Json))!;
        Assert.Contains("concat-mlp head's first layer", similar.Compared, StringComparison.Ordinal);
    }
}

/// <summary>
/// The recommendation endpoints through HTTP on a trained model: each answer is checked against a brute-force
/// reference built from the full ranking (every item with its score) and the data set's own item records.
/// </summary>
public abstract class RecommendationsTests(RecommendationsService service)
{
    protected HttpClient Client => service.Client;
    private RatingDataset Data => service.Data;
    private int Items => Data.ItemCount;

    private async Task<RankingResponse> RankingAsync(string query) =>
        (await Client.GetFromJsonAsync<RankingResponse>($"/users/{query}", ApiHost.Json))!;

    /// <summary>Every item for the user, best first, seen ones included: the reference order.</summary>
    private async Task<IReadOnlyList<RankedItem>> FullRankingAsync(string user) =>
        (await RankingAsync($"{user}/ranking?includeSeen=true&k={Items}")).Items;

    private HashSet<string> Rated(string user)
    {
        int index = Data.Users.ToIndex(user);
        return Data.Ratings.Where(r => r.User == index).Select(r => Data.Items.ToId(r.Item)).ToHashSet();
    }

    private bool InAny(string item, IEnumerable<string> categories) =>
        Data.Catalogue[Data.Items.ToIndex(item)].Categories.Intersect(categories).Any();

    [Theory]
    [InlineData("3", new[] { "Comedy" }, "", 0, 10)]
    [InlineData("7", new[] { "Drama", "Action" }, "", 5, 8)]
    [InlineData("12", new string[0], "X", 3, 12)]
    [InlineData("20", new[] { "Comedy", "Romance" }, "X", 2, 6)]
    public async Task A_filtered_paged_ranking_equals_the_full_ranking_filtered_by_brute_force(string user, string[] categories, string exclude, int offset, int k)
    {
        IReadOnlyList<RankedItem> full = await FullRankingAsync(user);
        HashSet<string> rated = Rated(user);
        // "X": the user's five best unseen items, left out by id.
        string[] left = exclude == "X" ? [.. full.Where(i => !rated.Contains(i.ItemId)).Take(5).Select(i => i.ItemId)] : [];
        string query = $"{user}/ranking?k={k}&offset={offset}" + string.Concat(categories.Select(c => $"&category={c}"))
            + (left.Length > 0 ? $"&exclude={string.Join(',', left)}" : "");

        RankingResponse answer = await RankingAsync(query);

        RankedItem[] expected = [.. full.Where(i => !rated.Contains(i.ItemId) && !left.Contains(i.ItemId) && (categories.Length == 0 || InAny(i.ItemId, categories)))
            .Skip(offset).Take(k)];
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Select(i => i.ItemId), answer.Items.Select(i => i.ItemId));
        Assert.Equal(expected.Select(i => i.Score), answer.Items.Select(i => i.Score));
        Assert.Equal(Enumerable.Range(offset + 1, answer.Items.Count), answer.Items.Select(i => i.Rank));
        Assert.Equal(offset, answer.Offset);
        Assert.Equal("model", answer.Source);
        Assert.Equal("synthetic", answer.Dataset);
    }

    [Fact]
    public async Task Filters_that_leave_nothing_answer_an_empty_list_not_an_error()
    {
        Assert.Empty((await RankingAsync("3/ranking?category=no-such-category")).Items);
        string all = string.Join(',', Data.Items.Ids);
        Assert.Empty((await RankingAsync($"3/ranking?includeSeen=true&exclude={all}")).Items);
        Assert.Empty((await Client.GetFromJsonAsync<ItemListResponse>("/items/popular?category=no-such-category", ApiHost.Json))!.Items);
        Assert.Empty((await Client.GetFromJsonAsync<SimilarItemsResponse>("/items/4/similar?category=no-such-category", ApiHost.Json))!.Items);
        BatchRankingResponse batch = await PostAsync<BatchRankingResponse>("/rankings", new { users = new[] { "3" }, category = new[] { "no-such-category" } });
        Assert.Empty(batch.Results.Single().Items);
    }

    [Fact]
    public async Task Popular_items_are_the_interaction_counts_of_the_serving_models_train_split_most_first_and_honour_categories()
    {
        // The job trained under the default protocol (temporal leave-last-out): its train split leaves each user's last
        // two items (validation, test) out, and so must the counts, or the list would leak the test items.
        UserSplit split = EvaluationProtocol.Split(Data, SplitProtocol.Temporal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (int item in split.TrainItems.SelectMany(items => items))
        {
            counts[Data.Items.ToId(item)] = counts.GetValueOrDefault(Data.Items.ToId(item)) + 1;
        }
        Assert.True(counts.Values.Sum() < Data.Ratings.Length);
        string[] expected = [.. Data.Items.Ids.Select((id, index) => (id, index)).OrderByDescending(p => counts.GetValueOrDefault(p.id)).ThenBy(p => p.index).Select(p => p.id)];

        ItemListResponse popular = (await Client.GetFromJsonAsync<ItemListResponse>($"/items/popular?k={Items}", ApiHost.Json))!;
        Assert.Equal(expected, popular.Items.Select(i => i.ItemId));
        Assert.Equal(expected.Select(id => counts.GetValueOrDefault(id)), popular.Items.Select(i => i.Count!.Value));
        Assert.Equal("train-counts", popular.Source);

        ItemListResponse drama = (await Client.GetFromJsonAsync<ItemListResponse>("/items/popular?k=7&category=Drama", ApiHost.Json))!;
        Assert.Equal(expected.Where(id => InAny(id, ["Drama"])).Take(7), drama.Items.Select(i => i.ItemId));
    }

    [Fact]
    public async Task An_unknown_user_with_fallback_popular_gets_the_popularity_list_and_says_so()
    {
        ItemListResponse popular = (await Client.GetFromJsonAsync<ItemListResponse>("/items/popular?k=12&category=Comedy", ApiHost.Json))!;

        RankingResponse fallback = await RankingAsync("no-such-user/ranking?fallback=popular&k=5&offset=2&category=Comedy");

        Assert.Equal("popular", fallback.Source);
        Assert.Equal(popular.Items.Skip(2).Take(5).Select(i => i.ItemId), fallback.Items.Select(i => i.ItemId));
        Assert.Equal([3, 4, 5, 6, 7], fallback.Items.Select(i => i.Rank));
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/no-such-user/ranking")).StatusCode);
        Assert.Equal("model", (await RankingAsync("3/ranking?fallback=popular")).Source);
    }

    [Fact]
    public async Task Latest_items_list_only_items_with_a_timestamp_which_synthetic_items_lack()
    {
        ItemListResponse latest = (await Client.GetFromJsonAsync<ItemListResponse>("/items/latest", ApiHost.Json))!;
        Assert.Equal("timestamps", latest.Source);
        Assert.Empty(latest.Items);
    }

    [Fact]
    public async Task Similar_items_are_the_cosine_neighbours_symmetric_without_the_item_itself_and_honour_categories()
    {
        SimilarItemsResponse all = (await Client.GetFromJsonAsync<SimilarItemsResponse>($"/items/5/similar?k={Items - 1}", ApiHost.Json))!;

        Assert.Equal(Items - 1, all.Items.Count);
        Assert.DoesNotContain(all.Items, i => i.ItemId == "5");
        Assert.All(all.Items, i => Assert.InRange(i.Score, -1.0001f, 1.0001f));
        Assert.Equal(all.Items.Select(i => i.Score).OrderByDescending(s => s), all.Items.Select(i => i.Score));
        foreach (RankedItem other in all.Items.Take(3).Concat(all.Items.TakeLast(2)))
        {
            SimilarItemsResponse back = (await Client.GetFromJsonAsync<SimilarItemsResponse>($"/items/{other.ItemId}/similar?k={Items - 1}", ApiHost.Json))!;
            Assert.Equal(other.Score, back.Items.Single(i => i.ItemId == "5").Score, 4);
        }
        SimilarItemsResponse comedy = (await Client.GetFromJsonAsync<SimilarItemsResponse>("/items/5/similar?k=6&category=Comedy&category=War", ApiHost.Json))!;
        Assert.Equal(all.Items.Where(i => InAny(i.ItemId, ["Comedy", "War"])).Take(6).Select(i => i.ItemId), comedy.Items.Select(i => i.ItemId));
    }

    [Fact]
    public async Task Similar_users_are_the_cosine_neighbours_symmetric_and_never_the_user_itself()
    {
        SimilarUsersResponse near = (await Client.GetFromJsonAsync<SimilarUsersResponse>("/users/9/similar?k=5", ApiHost.Json))!;

        Assert.Equal(5, near.Users.Count);
        Assert.DoesNotContain(near.Users, u => u.UserId == "9");
        Assert.Equal([1, 2, 3, 4, 5], near.Users.Select(u => u.Rank));
        Assert.Equal(near.Users.Select(u => u.Score).OrderByDescending(s => s), near.Users.Select(u => u.Score));
        SimilarUsersResponse back = (await Client.GetFromJsonAsync<SimilarUsersResponse>($"/users/{near.Users[0].UserId}/similar?k={Data.UserCount - 1}", ApiHost.Json))!;
        Assert.Equal(near.Users[0].Score, back.Users.Single(u => u.UserId == "9").Score, 4);
    }

    [Fact]
    public async Task Rerank_equals_the_single_ranking_restricted_to_the_candidates_with_unknown_ids_last()
    {
        IReadOnlyList<RankedItem> full = await FullRankingAsync("4");
        string[] candidates = [.. Data.Items.Ids.Where((_, i) => i % 7 == 2)];

        RerankResponse answer = await PostAsync<RerankResponse>("/users/4/rerank", new { items = candidates.Append("nope").Append(candidates[0]).Reverse().ToArray() });

        Assert.Equal(full.Where(i => candidates.Contains(i.ItemId)).Select(i => (i.ItemId, i.Score)), answer.Items.Select(i => (i.ItemId, i.Score)));
        Assert.Equal(Enumerable.Range(1, candidates.Length), answer.Items.Select(i => i.Rank));
        Assert.Equal(["nope"], answer.UnknownItems);
        Assert.Empty(answer.Excluded);
    }

    [Fact]
    public async Task A_batch_equals_the_single_endpoint_for_each_user_in_request_order_and_flags_unknown_users()
    {
        string[] users = ["17", "nobody", "2", "88", "2"];
        BatchRankingResponse batch = await PostAsync<BatchRankingResponse>("/rankings",
            new { users, k = 7, category = new[] { "Drama", "Comedy" }, exclude = new[] { "1", "2", "3" } });

        Assert.Equal(users, batch.Results.Select(r => r.UserId));
        Assert.Equal([true, false, true, true, true], batch.Results.Select(r => r.Found));
        Assert.Empty(batch.Results[1].Items);
        foreach (BatchUserRanking result in batch.Results.Where(r => r.Found))
        {
            RankingResponse single = await RankingAsync($"{result.UserId}/ranking?k=7&category=Drama&category=Comedy&exclude=1,2,3");
            Assert.Equal(single.Items, result.Items);
        }
        BatchRankingResponse plain = await PostAsync<BatchRankingResponse>("/rankings", new { users = Data.Users.Ids.Take(40).ToArray(), includeSeen = true });
        foreach (BatchUserRanking result in plain.Results)
        {
            Assert.Equal((await RankingAsync($"{result.UserId}/ranking?includeSeen=true")).Items, result.Items);
        }
    }

    [Fact]
    public async Task A_session_ranks_without_its_items_reports_unknown_ids_and_honours_filters_against_its_full_ranking()
    {
        string[] items = [.. Rated("6").Take(12)];
        object[] session = [.. items.Select(id => (object)new { id, value = 4f }), new { id = "nope" }];

        SessionRankingResponse full = await PostAsync<SessionRankingResponse>("/sessions/ranking", new { items = session, k = Items - items.Length });
        SessionRankingResponse filtered = await PostAsync<SessionRankingResponse>("/sessions/ranking",
            new { items = session, k = 5, category = new[] { "Drama", "Thriller" }, exclude = new[] { full.Items[0].ItemId } });

        Assert.Equal(Items - items.Length, full.Items.Count);
        Assert.DoesNotContain(full.Items, i => items.Contains(i.ItemId));
        Assert.Equal(["nope"], full.UnknownItems);
        Assert.Equal(full.Items.Select(i => i.Score).OrderByDescending(s => s), full.Items.Select(i => i.Score));
        Assert.Equal(full.Items.Skip(1).Where(i => InAny(i.ItemId, ["Drama", "Thriller"])).Take(5).Select(i => (i.ItemId, i.Score)),
            filtered.Items.Select(i => (i.ItemId, i.Score)));
        // The same items give the same user: fold-in is deterministic.
        SessionRankingResponse again = await PostAsync<SessionRankingResponse>("/sessions/ranking", new { items = session, k = Items - items.Length });
        Assert.Equal(full.Items, again.Items);
    }

    public static TheoryData<string, string, string?, int> BadRequests => new()
    {
        { "GET", "/users/1/ranking?dataset=nope", null, 400 },
        { "GET", "/users/1/ranking?offset=-1", null, 400 },
        { "GET", "/users/1/ranking?offset=150", null, 400 },
        { "GET", "/users/1/ranking?offset=145&k=6", null, 400 },
        { "GET", "/users/1/ranking?k=151", null, 400 },
        { "GET", "/users/1/ranking?fallback=random", null, 400 },
        { "GET", "/users/nobody/ranking?category=Drama", null, 404 },
        { "GET", "/items/nope/similar", null, 404 },
        { "GET", "/items/5/similar?k=0", null, 400 },
        { "GET", "/items/5/similar?k=151", null, 400 },
        { "GET", "/items/5/similar?dataset=nope", null, 400 },
        { "GET", "/users/nobody/similar", null, 404 },
        { "GET", "/users/1/similar?k=0", null, 400 },
        { "GET", "/users/1/similar?k=100", null, 400 },
        { "GET", "/items/popular?k=0", null, 400 },
        { "GET", "/items/popular?k=ten", null, 400 },
        { "GET", "/items/popular?dataset=nope", null, 400 },
        { "GET", "/items/latest?k=-3", null, 400 },
        { "GET", "/items/latest?dataset=nope", null, 400 },
        { "POST", "/sessions/ranking", """{"items": []}""", 400 },
        { "POST", "/sessions/ranking", """{}""", 400 },
        { "POST", "/sessions/ranking", """{"items": [{"id": "nope"}, {"id": "nada"}]}""", 400 },
        { "POST", "/sessions/ranking", """{"items": [{"value": 3}]}""", 400 },
        { "POST", "/sessions/ranking", """{"items": [{"id": "1"}], "k": 0}""", 400 },
        { "POST", "/sessions/ranking", """{"items": [{"id": "1"}], "dataset": "nope"}""", 400 },
        { "POST", "/sessions/ranking", """{"items": [{"id": "1"}], "category": [null]}""", 400 },
        { "POST", "/users/1/rerank", """{"items": []}""", 400 },
        { "POST", "/users/1/rerank", """{"items": ["1", null]}""", 400 },
        { "POST", "/users/1/rerank", """{"items": ["1"], "dataset": "nope"}""", 400 },
        { "POST", "/users/nobody/rerank", """{"items": ["1"]}""", 404 },
        { "POST", "/users/1/rerank", "not json", 400 },
        { "POST", "/rankings", """{"users": []}""", 400 },
        { "POST", "/rankings", """{"users": ["1"], "k": 0}""", 400 },
        { "POST", "/rankings", """{"users": ["1"], "k": 151}""", 400 },
        { "POST", "/rankings", """{"users": ["1"], "dataset": "nope"}""", 400 },
        { "POST", "/rankings", """{"users": ["1", null]}""", 400 },
        { "POST", "/rankings", "{\"users\": [" + string.Join(',', Enumerable.Range(1, 1001).Select(i => $"\"{i}\"")) + "]}", 400 },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_answers_problem_details_in_the_apis_own_words(string method, string url, string? body, int status)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url)
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        using HttpResponseMessage response = await Client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument problem = JsonDocument.Parse(text);
        Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
        Assert.DoesNotContain("System.", text, StringComparison.Ordinal);
    }

    private async Task<T> PostAsync<T>(string url, object body)
    {
        HttpResponseMessage response = await Client.PostAsJsonAsync(url, body, ApiHost.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<T>(ApiHost.Json))!;
    }
}

/// <summary>Before any model, every recommendation endpoint answers 503 (bad input still 400 first).</summary>
public sealed class RecommendationsBeforeAnyModelTests(EmptyService service) : IClassFixture<EmptyService>
{
    [Theory]
    [InlineData("GET", "/items/1/similar", null)]
    [InlineData("GET", "/users/1/similar", null)]
    [InlineData("GET", "/items/popular", null)]
    [InlineData("GET", "/items/latest", null)]
    [InlineData("POST", "/users/1/rerank", """{"items": ["1"]}""")]
    [InlineData("POST", "/rankings", """{"users": ["1"]}""")]
    [InlineData("POST", "/sessions/ranking", """{"items": [{"id": "1"}]}""")]
    public async Task Every_endpoint_answers_503_problem_details_before_the_first_model(string method, string url, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url)
        {
            Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        };
        using HttpResponseMessage response = await service.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("POST /jobs", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>The recommendation endpoints in the OpenAPI document, with examples of their bodies.</summary>
public sealed class RecommendationsOpenApiTests(EmptyService service) : IClassFixture<EmptyService>
{
    [Fact]
    public async Task Swagger_lists_every_recommendation_endpoint_and_shows_example_bodies()
    {
        JsonElement doc = await service.Client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        JsonElement paths = doc.GetProperty("paths");
        foreach ((string path, string method) in new[]
        {
            ("/sessions/ranking", "post"), ("/items/{id}/similar", "get"), ("/users/{id}/similar", "get"), ("/items/popular", "get"),
            ("/items/latest", "get"), ("/users/{id}/rerank", "post"), ("/rankings", "post"), ("/users/{id}/ranking", "get"),
        })
        {
            Assert.True(paths.GetProperty(path).TryGetProperty(method, out JsonElement operation), $"{method} {path}");
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("description").GetString()));
        }
        string[] ranking = [.. paths.GetProperty("/users/{id}/ranking").GetProperty("get").GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()!)];
        Assert.Superset(new HashSet<string> { "offset", "category", "exclude", "fallback" }, ranking.ToHashSet());
        JsonElement schemas = doc.GetProperty("components").GetProperty("schemas");
        JsonElement session = schemas.GetProperty("SessionRankingRequest").GetProperty("properties");
        Assert.Equal("50", session.GetProperty("items").GetProperty("example")[0].GetProperty("id").GetString());
        Assert.Equal(3, schemas.GetProperty("BatchRankingRequest").GetProperty("properties").GetProperty("users").GetProperty("example").GetArrayLength());
    }
}

/// <summary>A left-out data set is the configured default, whatever was activated last.</summary>
public sealed class DefaultDatasetTests() : HostPerTest(new Dictionary<string, string?> { ["Data:DefaultDataset"] = "ml-100k" })
{
    [Fact]
    public async Task A_ranking_without_a_data_set_asks_the_configured_default_not_the_data_set_trained_last()
    {
        JobView job = await ApiHost.PostJobAsync(Client, new { dataset = "synthetic", epochs = 1 });
        await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Succeeded);

        HttpResponseMessage response = await Client.GetAsync(new Uri("/users/3/ranking", UriKind.Relative));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("'ml-100k'", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        RankingResponse named = (await Client.GetFromJsonAsync<RankingResponse>("/users/3/ranking?dataset=synthetic", ApiHost.Json))!;
        Assert.Equal(job.Id, named.ModelJobId);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Client.GetAsync(new Uri("/items/popular", UriKind.Relative))).StatusCode);
    }
}
