using System.Text;
using System.Text.Json.Nodes;
using RankService.Api.Tests.Datasets;
using C = RankService.Client;
using ServerRankedItem = RankService.Api.Serving.RankedItem;

namespace RankService.Api.Tests;

/// <summary>
/// The client's recommendation calls against a host that trained one short job: each answer equals the same endpoint
/// read as raw JSON, and refusals surface as <see cref="C.RankServiceException"/> with the service's words.
/// </summary>
public sealed class ClientRecommendationsRoundTripTests(ClientService service) : IClassFixture<ClientService>
{
    private readonly HttpClient _raw = service.Client;

    private C.RankServiceClient Client() => new(service.Host.CreateClientWithKey(null), ApiHost.TestKey);

    private async Task<T> RawAsync<T>(string path) => (await _raw.GetFromJsonAsync<T>(path, ApiHost.Json))!;

    private async Task<T> RawPostAsync<T>(string path, object body)
    {
        HttpResponseMessage response = await _raw.PostAsJsonAsync(path, body, ApiHost.Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<T>(ApiHost.Json))!;
    }

    private static void SameItems(IReadOnlyList<ServerRankedItem> expected, IReadOnlyList<C.RankedItem> actual) =>
        Assert.Equal(expected.Select(i => (i.Rank, i.ItemId, i.MovieId, i.Title, i.Score)), actual.Select(i => (i.Rank, i.ItemId, i.MovieId, i.Title, i.Score)));

    [Fact]
    public async Task A_ranking_with_paging_filters_exclusions_and_the_popular_fallback_reads_what_the_api_answers()
    {
        C.RankServiceClient client = Client();
        RankingResponse full = await RawAsync<RankingResponse>("/users/3/ranking?k=6");
        var query = new C.RankingQuery
        {
            K = 4, Offset = 1, IncludeSeen = true, Categories = ["Comedy", "Drama"], Exclude = [full.Items[0].ItemId, full.Items[1].ItemId], Dataset = "synthetic",
        };
        C.UserRanking ranking = await client.GetRankingAsync("3", query);
        RankingResponse raw = await RawAsync<RankingResponse>(
            $"/users/3/ranking?k=4&offset=1&includeSeen=true&category=Comedy&category=Drama&exclude={full.Items[0].ItemId},{full.Items[1].ItemId}&dataset=synthetic");
        Assert.Equal((raw.UserId, raw.Dataset, raw.ModelJobId, raw.K, raw.Offset, raw.Source), (ranking.UserId, ranking.Dataset, ranking.ModelJobId, ranking.K, ranking.Offset, ranking.Source));
        Assert.Equal(1, ranking.Offset);
        Assert.NotEmpty(ranking.Items);
        SameItems(raw.Items, ranking.Items);
        Assert.DoesNotContain(ranking.Items, i => i.ItemId == full.Items[0].ItemId || i.ItemId == full.Items[1].ItemId);

        C.UserRanking exact = await client.GetRankingAsync("3", new C.RankingQuery { K = 6, Exact = true });
        Assert.False(exact.Approximate);
        Assert.Equal(full.Items.Select(i => i.ItemId), exact.Items.Select(i => i.ItemId));

        C.UserRanking fallback = await client.GetRankingAsync("no-such-user", new C.RankingQuery { K = 3, FallbackToPopular = true });
        Assert.Equal("popular", fallback.Source);
        SameItems((await RawAsync<RankingResponse>("/users/no-such-user/ranking?k=3&fallback=popular")).Items, fallback.Items);
        C.RankServiceException unknown = await Assert.ThrowsAsync<C.RankServiceException>(() => client.GetRankingAsync("no-such-user", new C.RankingQuery()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
    }

    [Fact]
    public async Task Session_similar_popular_and_latest_read_what_the_api_answers()
    {
        C.RankServiceClient client = Client();

        C.SessionRanking session = await client.RankSessionAsync(new C.SessionRequest([new C.SessionItem("50", 5), new C.SessionItem("nope"), new C.SessionItem("7")], K: 5,
            Exclude: ["1"]));
        SessionRankingResponse rawSession = await RawPostAsync<SessionRankingResponse>("/sessions/ranking",
            new { items = new object[] { new { id = "50", value = 5 }, new { id = "nope" }, new { id = "7" } }, k = 5, exclude = new[] { "1" } });
        SameItems(rawSession.Items, session.Items);
        Assert.Equal(["nope"], session.UnknownItems);
        Assert.Equal((rawSession.ModelJobId, 5), (session.ModelJobId, session.K));
        C.RankServiceException empty = await Assert.ThrowsAsync<C.RankServiceException>(() => client.RankSessionAsync(new C.SessionRequest([])));
        Assert.Equal(HttpStatusCode.BadRequest, empty.Status);

        C.SimilarItems similar = await client.GetSimilarItemsAsync("50", k: 4, categories: ["Drama"]);
        SimilarItemsResponse rawSimilar = await RawAsync<SimilarItemsResponse>("/items/50/similar?k=4&category=Drama");
        SameItems(rawSimilar.Items, similar.Items);
        Assert.Equal((rawSimilar.ItemId, rawSimilar.Compared), (similar.ItemId, similar.Compared));
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<C.RankServiceException>(() => client.GetSimilarItemsAsync("no-such-item"))).Status);

        C.SimilarUsers users = await client.GetSimilarUsersAsync("3", k: 5, dataset: "synthetic");
        SimilarUsersResponse rawUsers = await RawAsync<SimilarUsersResponse>("/users/3/similar?k=5&dataset=synthetic");
        Assert.Equal(rawUsers.Users.Select(u => (u.Rank, u.UserId, u.Score)), users.Users.Select(u => (u.Rank, u.UserId, u.Score)));
        Assert.Equal(5, users.Users.Count);

        C.ItemList popular = await client.GetPopularItemsAsync(k: 5, categories: ["Comedy"]);
        ItemListResponse rawPopular = await RawAsync<ItemListResponse>("/items/popular?k=5&category=Comedy");
        Assert.Equal(rawPopular.Items.Select(i => (i.Rank, i.ItemId, i.Title, i.Count)), popular.Items.Select(i => (i.Rank, i.ItemId, i.Title, i.Count)));
        Assert.Equal("train-counts", popular.Source);
        Assert.NotEmpty(popular.Items);

        C.ItemList latest = await client.GetLatestItemsAsync(k: 5);
        ItemListResponse rawLatest = await RawAsync<ItemListResponse>("/items/latest?k=5");
        Assert.Equal(rawLatest.Items.Select(i => (i.Rank, i.ItemId, i.Timestamp)), latest.Items.Select(i => (i.Rank, i.ItemId, i.Timestamp)));
        Assert.Equal(rawLatest.Source, latest.Source);
        Assert.Equal(HttpStatusCode.BadRequest, (await Assert.ThrowsAsync<C.RankServiceException>(() => client.GetPopularItemsAsync(k: 0))).Status);
    }

    [Fact]
    public async Task Rerank_and_batch_rankings_read_what_the_api_answers()
    {
        C.RankServiceClient client = Client();

        C.Reranking reranked = await client.RerankAsync("3", ["50", "7", "nope", "1"]);
        RerankResponse rawReranked = await RawPostAsync<RerankResponse>("/users/3/rerank", new { items = new[] { "50", "7", "nope", "1" } });
        SameItems(rawReranked.Items, reranked.Items);
        Assert.Equal(["nope"], reranked.UnknownItems);
        Assert.Equal(rawReranked.Excluded, reranked.Excluded);

        C.BatchRanking batch = await client.RankUsersAsync(new C.BatchRankingRequest(["3", "nobody", "7"], K: 4, Category: ["Drama"]));
        BatchRankingResponse rawBatch = await RawPostAsync<BatchRankingResponse>("/rankings", new { users = new[] { "3", "nobody", "7" }, k = 4, category = new[] { "Drama" } });
        Assert.Equal(["3", "nobody", "7"], batch.Results.Select(r => r.UserId));
        Assert.Equal([true, false, true], batch.Results.Select(r => r.Found));
        for (int u = 0; u < 3; u++)
        {
            SameItems(rawBatch.Results[u].Items, batch.Results[u].Items);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await Assert.ThrowsAsync<C.RankServiceException>(() => client.RankUsersAsync(new C.BatchRankingRequest([])))).Status);
    }
}

/// <summary>The client's data set and schedule calls against a real host: each write read back through the API.</summary>
public sealed class ClientDatasetsRoundTripTests(EmptyService service) : IClassFixture<EmptyService>
{
    private C.RankServiceClient Client(string? key = ApiHost.TestKey) => new(service.Host.CreateClientWithKey(null), key);

    [Fact]
    public async Task A_live_data_set_is_created_fed_imported_exported_erased_from_and_deleted_through_the_client()
    {
        C.RankServiceClient client = Client();
        string name = LiveDatasetScenarios.NewName();

        C.DatasetInfo created = await client.PutDatasetAsync(name, new C.DatasetSettings(new Dictionary<string, double> { ["rating"] = 1, ["click"] = 0.5 }));
        Assert.Equal(("live", 0L), (created.Kind, created.Users));
        Assert.Equal(0.5, created.Settings!.FeedbackTypes!["click"]);
        C.DatasetInfo updated = await client.PutDatasetAsync(name, new C.DatasetSettings(new Dictionary<string, double> { ["rating"] = 1, ["click"] = 0.5 }, AutoCreateItems: false));
        Assert.Equal(created.Version + 1, updated.Version);
        Assert.False(updated.Settings!.AutoCreateItems);

        C.DatasetWrite items = await client.AddItemsAsync(name, [new C.ItemRecord("a", "Alpha", ["Comedy"], Timestamp: 1_700_000_000), new C.ItemRecord("b", "Beta", Hidden: true)]);
        Assert.Equal((2L, 0L), (items.Inserted, items.Updated));
        C.DatasetWrite feedback = await client.AddFeedbackAsync(name, [new C.FeedbackRecord("u1", "a", "rating", 4, 1_700_000_100), new C.FeedbackRecord("u2", "b", "click")]);
        Assert.Equal(2L, feedback.Inserted);
        Assert.True(feedback.Version > items.Version);

        using (var csv = new MemoryStream(Encoding.UTF8.GetBytes("itemId,title\nc,Gamma\n")))
        {
            Assert.Equal(1L, (await client.ImportAsync(name, C.RecordKind.Items, csv, C.ImportFormat.Csv)).Inserted);
            Assert.True(csv.CanRead, "the caller's stream stays open");
        }
        using (var ndjson = new MemoryStream(Encoding.UTF8.GetBytes("{\"userId\":\"u3\",\"itemId\":\"c\",\"type\":\"rating\",\"value\":5}\n")))
        {
            Assert.Equal(1L, (await client.ImportAsync(name, C.RecordKind.Feedback, ndjson, C.ImportFormat.NdJson)).Inserted);
        }

        C.DatasetInfo fed = await client.GetDatasetAsync(name);
        Assert.Equal((3L, 3L, 3L), (fed.Users!.Value, fed.Items!.Value, fed.Feedback!.Value));
        Assert.Contains(await client.ListDatasetsAsync(), d => d.Name == name && d.Kind == "live" && d.Feedback == 3);
        Assert.Contains(await client.ListDatasetsAsync(), d => d.Name == "synthetic" && d.Kind == "file");

        using var exported = new MemoryStream();
        await client.ExportAsync(name, C.RecordKind.Feedback, exported);
        List<JsonElement> raw = await DatasetClient.ExportAsync(service.Client, name, "feedback");
        string[] lines = Encoding.UTF8.GetString(exported.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(raw.Select(r => r.GetRawText()), lines.Select(l => JsonDocument.Parse(l).RootElement.GetRawText()));
        Assert.Equal(["u1", "u2", "u3"], raw.Select(r => r.GetProperty("userId").GetString()));

        C.ErasedUser erased = await client.EraseUserAsync(name, "u1");
        Assert.Equal((name, "u1", 1L), (erased.Dataset, erased.UserId, erased.FeedbackErased));
        Assert.Equal(2L, (await client.GetDatasetAsync(name)).Feedback);

        // Refusals in the service's words: a record naming a bad field, a file data set, a missing one, no key.
        C.RankServiceException refused = await Assert.ThrowsAsync<C.RankServiceException>(() => client.AddFeedbackAsync(name, [new C.FeedbackRecord("u9", "no-such-item", "rating", 3)]));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.False(string.IsNullOrEmpty(refused.Detail));
        Assert.Equal(2L, (await client.GetDatasetAsync(name)).Feedback); // all or nothing
        Assert.Equal(HttpStatusCode.Conflict, (await Assert.ThrowsAsync<C.RankServiceException>(() => client.DeleteDatasetAsync("synthetic"))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Assert.ThrowsAsync<C.RankServiceException>(() => Client(key: null).DeleteDatasetAsync(name))).Status);

        await client.DeleteDatasetAsync(name);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<C.RankServiceException>(() => client.GetDatasetAsync(name))).Status);
    }

    [Fact]
    public async Task A_schedule_is_put_read_and_deleted_through_the_client()
    {
        C.RankServiceClient client = Client();

        C.Schedule saved = await client.PutScheduleAsync("synthetic", new C.ScheduleSubmission("0 4 * * *", new JsonObject { ["epochs"] = 3 }, "never"));
        Assert.Equal(("synthetic", "0 4 * * *", "never"), (saved.Dataset, saved.Cron, saved.Promote));
        Assert.Equal(3, saved.Training["epochs"].GetInt32());
        Assert.Equal(4, saved.NextRun!.Value.Hour);

        C.Schedule read = await client.GetScheduleAsync("synthetic");
        TrainingSchedule raw = (await service.Client.GetFromJsonAsync<TrainingSchedule>("/datasets/synthetic/schedule", ApiHost.Json))!;
        Assert.Equal((raw.Cron, raw.NextRun, raw.LastRun), (read.Cron, read.NextRun, read.LastRun));
        Assert.Equal("if-better", (await client.PutScheduleAsync("synthetic", new C.ScheduleSubmission("*/5 * * * *"))).Promote);

        C.RankServiceException bad = await Assert.ThrowsAsync<C.RankServiceException>(() => client.PutScheduleAsync("synthetic", new C.ScheduleSubmission("every day")));
        Assert.Equal(HttpStatusCode.BadRequest, bad.Status);
        Assert.True(bad.Errors.ContainsKey("cron"), string.Join(", ", bad.Errors.Keys));

        await client.DeleteScheduleAsync("synthetic");
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<C.RankServiceException>(() => client.GetScheduleAsync("synthetic"))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<C.RankServiceException>(() => client.DeleteScheduleAsync("synthetic"))).Status);
    }
}
