using System.Text;
using RankService.Ranking.Data;
using static RankService.Api.Tests.Datasets.DatasetClient;

namespace RankService.Api.Tests.Datasets;

/// <summary>Training on live data sets: string ids end to end, snapshot versions, erasure reaching serving, fingerprint parity.</summary>
public sealed class LiveTrainingTests : HostPerTest
{
    private static readonly Dictionary<string, double> ShopTypes = new() { ["purchase"] = 3, ["click"] = 1, ["dislike"] = -1 };

    /// <summary>30 users with 12 to 20 timed purchases and clicks over 40 items; sku-0 hidden; user-1 dislikes sku-5 only.</summary>
    private async Task<long> FeedShopAsync(string name)
    {
        await CreateAsync(Client, name, new { feedbackTypes = ShopTypes });
        string items = "itemId,title,categories,hidden\n" + string.Concat(Enumerable.Range(0, 40).Select(i => $"sku-{i},Item {i},cat-{i % 4},{(i == 0 ? "true" : "false")}\n"));
        await OkAsync(ImportAsync(Client, name, "items", items));
        var rng = new Random(16);
        var lines = new StringBuilder();
        long t = 1_700_000_000;
        for (int u = 0; u < 30; u++)
        {
            foreach (int i in Enumerable.Range(0, 40).Where(i => i != 5 || u != 1).OrderBy(_ => rng.Next()).Take(12 + rng.Next(9)))
            {
                lines.Append(System.Globalization.CultureInfo.InvariantCulture, $$"""{"userId": "user-{{u}}", "itemId": "sku-{{i}}", "type": "{{(rng.Next(3) == 0 ? "purchase" : "click")}}", "timestamp": {{t++}}}""").Append('\n');
            }
        }
        await OkAsync(ImportAsync(Client, name, "feedback", lines.ToString(), "application/x-ndjson"));
        return (await OkAsync(PostAsync(Client, name, "feedback", new[]
        {
            new { userId = "user-1", itemId = "sku-5", type = "dislike", timestamp = t++ },
            new { userId = "user-1", itemId = "sku-0", type = "purchase", timestamp = t++ },
        }))).Version;
    }

    [Fact]
    public async Task A_live_data_set_trains_on_its_snapshot_and_ranks_with_string_ids_without_hidden_or_disliked_items()
    {
        long version = await FeedShopAsync("shop");
        JobView job = await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, new { dataset = "shop", epochs = 2 })).Id, JobState.Succeeded);
        JsonElement manifest = (await Client.GetFromJsonAsync<JsonElement>($"/models/{job.Id}")).GetProperty("manifest").GetProperty("dataset");
        Assert.Equal(version.ToString(System.Globalization.CultureInfo.InvariantCulture), manifest.GetProperty("version").GetString());
        Assert.Equal(30, manifest.GetProperty("users").GetInt32());

        JsonElement ranking = await Client.GetFromJsonAsync<JsonElement>("/users/user-1/ranking?dataset=shop&k=40&includeSeen=true");
        string[] ids = ranking.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()!).ToArray();
        Assert.NotEmpty(ids);
        Assert.All(ids, id => Assert.StartsWith("sku-", id, StringComparison.Ordinal));
        Assert.DoesNotContain("sku-0", ids); // hidden
        Assert.DoesNotContain("sku-5", ids); // disliked by user-1
        Assert.False(ranking.GetProperty("items")[0].TryGetProperty("movieId", out _));
        Assert.StartsWith("Item ", ranking.GetProperty("items")[0].GetProperty("title").GetString(), StringComparison.Ordinal);
        JsonElement other = await Client.GetFromJsonAsync<JsonElement>("/users/user-2/ranking?dataset=shop&k=40&includeSeen=true");
        Assert.Contains("sku-5", other.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("itemId").GetString()));

        // Feedback after the job started is in a later version, not in the model.
        long later = (await OkAsync(PostAsync(Client, "shop", "feedback", new[] { new { userId = "user-new", itemId = "sku-3", type = "purchase", timestamp = 1_800_000_000 } }))).Version;
        Assert.True(later > version);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/user-new/ranking?dataset=shop")).StatusCode);

        HttpResponseMessage erase = await Client.DeleteAsync("/datasets/shop/users/user-1");
        ErasedUserView erased = (await erase.Content.ReadFromJsonAsync<ErasedUserView>(ApiHost.Json))!;
        Assert.Equal(1, erased.ServingModels);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync("/users/user-1/ranking?dataset=shop")).StatusCode);
        Assert.DoesNotContain(await ExportAsync(Client, "shop", "feedback"), e => e.GetProperty("userId").GetString() == "user-1");
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/users/user-2/ranking?dataset=shop")).StatusCode);
    }

    [Fact]
    public async Task Popular_items_within_a_window_count_the_recent_events_of_positive_types_only()
    {
        await FeedShopAsync("shop"); // all of it timed in 2023: outside any window below but the longest
        await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, new { dataset = "shop", epochs = 1 })).Id, JobState.Succeeded);
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long day = 86_400;
        var recent = new List<object>();
        void Add(int times, string item, string type, long? at)
        {
            for (int i = 0; i < times; i++)
            {
                recent.Add(at is { } t ? new { userId = $"fan-{recent.Count}", itemId = item, type, timestamp = t } : (object)new { userId = $"fan-{recent.Count}", itemId = item, type });
            }
        }
        Add(3, "sku-7", "purchase", now - 3600);
        Add(1, "sku-7", "click", now - (2 * day));
        Add(2, "sku-9", "click", now - day);
        Add(1, "sku-11", "click", now - 60);
        Add(2, "sku-11", "click", now - (30 * day)); // outside 7 days, inside 60
        Add(5, "sku-12", "dislike", now - 60); // a negative type is no popularity
        Add(5, "sku-0", "purchase", now - 60); // hidden: never listed
        Add(5, "sku-13", "purchase", null); // untimed: not in any window
        await OkAsync(PostAsync(Client, "shop", "feedback", recent));

        async Task<JsonElement> PopularAsync(string url)
        {
            HttpResponseMessage answer = await Client.GetAsync(url);
            string text = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.IsSuccessStatusCode, $"{url}: {(int)answer.StatusCode} {text}");
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        static (string Id, int Count)[] Listed(JsonElement answer) =>
            [.. answer.GetProperty("items").EnumerateArray().Select(i => (i.GetProperty("itemId").GetString()!, i.GetProperty("count").GetInt32()))];
        JsonElement week = await PopularAsync("/items/popular?dataset=shop&window=7d&k=10");
        Assert.Equal("recent-feedback", week.GetProperty("source").GetString());
        Assert.Equal(new[] { ("sku-7", 4), ("sku-9", 2), ("sku-11", 1) }, Listed(week));
        Assert.Equal(Listed(week), Listed(await PopularAsync("/items/popular?dataset=shop&window=P7D&k=10")));
        Assert.Equal(new[] { ("sku-7", 4), ("sku-11", 1) }, Listed(await PopularAsync("/items/popular?dataset=shop&window=168h&k=10&category=cat-3")));
        Assert.Equal(new[] { ("sku-7", 4) }, Listed(await PopularAsync("/items/popular?dataset=shop&window=1w&k=1")));
        Assert.Equal(new[] { ("sku-7", 4), ("sku-11", 3), ("sku-9", 2) }, Listed(await PopularAsync("/items/popular?dataset=shop&window=60d&k=10")));
        Assert.Equal(new[] { ("sku-7", 3), ("sku-11", 1) }, Listed(await PopularAsync("/items/popular?dataset=shop&window=90m&k=10")));
        Assert.Equal("seen-counts", (await PopularAsync("/items/popular?dataset=shop&k=10")).GetProperty("source").GetString());
        RankService.Client.ItemList typed = await new RankService.Client.RankServiceClient(Client).GetPopularItemsAsync(k: 10, dataset: "shop", window: "7d");
        Assert.Equal(Listed(week), typed.Items.Select(i => (i.ItemId, i.Count ?? 0)));

        // The other recommendation endpoints serve the live data set's model too, in its own ids.
        Assert.StartsWith("sku-", (await PopularAsync("/items/sku-7/similar?dataset=shop&k=3")).GetProperty("items")[0].GetProperty("itemId").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Array, (await PopularAsync("/items/latest?dataset=shop&k=3")).GetProperty("items").ValueKind);
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsJsonAsync("/sessions/ranking", new { dataset = "shop", items = new[] { new { id = "sku-7" }, new { id = "sku-9" } }, k = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsJsonAsync("/users/user-2/rerank", new { dataset = "shop", items = new[] { "sku-7", "sku-9" } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsJsonAsync("/rankings", new { dataset = "shop", users = new[] { "user-2", "user-3" }, k = 5 })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.GetAsync("/items/popular?dataset=no-such-set")).StatusCode);

        foreach (string bad in new[] { "7", "0d", "-1d", "week", "P", "PT0S", "3651d", "7 days", "1e3d" })
        {
            HttpResponseMessage refused = await Client.GetAsync($"/items/popular?dataset=shop&window={Uri.EscapeDataString(bad)}");
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            JsonElement problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(problem.GetProperty("errors").TryGetProperty("window", out _), bad);
        }

        await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, new { dataset = "synthetic", epochs = 1 })).Id, JobState.Succeeded);
        HttpResponseMessage file = await Client.GetAsync("/items/popular?dataset=synthetic&window=7d");
        Assert.Equal(HttpStatusCode.BadRequest, file.StatusCode);
        Assert.Contains("file data set", (await file.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("window")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_temporal_protocol_is_refused_clearly_on_feedback_without_timestamps_and_recbole_trains()
    {
        await CreateAsync(Client, "untimed");
        string csv = "userId,itemId,rating\n" + string.Concat(Enumerable.Range(0, 400).Select(i => $"u{i % 20},i{(i * 7) % 50},{1 + i % 5}\n"));
        await OkAsync(ImportAsync(Client, "untimed", "feedback", csv));
        JobView failed = await ApiHost.WaitForAsync(Client, (await ApiHost.PostJobAsync(Client, new { dataset = "untimed", protocol = "temporal", epochs = 1 })).Id, j => j.State.IsFinished());
        Assert.Equal(JobState.Failed, failed.State);
        Assert.Contains("temporal", failed.Error, StringComparison.Ordinal);
        Assert.Contains("timestamp", failed.Error, StringComparison.Ordinal);
        await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, new { dataset = "untimed", protocol = "recbole", epochs = 1 })).Id, JobState.Succeeded);
    }
}

/// <summary>
/// A MovieLens CSV release written by the synthetic generator, read as a file data set and imported as it is into a live
/// one, trains to the same fingerprint and the same metrics with the same seed.
/// </summary>
public sealed class LiveFingerprintParityTests : IAsyncLifetime, IDisposable
{
    private readonly string _root = ApiHost.TempFolder();
    private ApiHost _host = null!;

    public Task InitializeAsync()
    {
        SyntheticScale.Write(new SyntheticScaleOptions { Users = 60, Items = 80, Ratings = 1800, MinRatingsPerUser = 20, Seed = 9 }, Path.Combine(_root, "data", "synth-csv"));
        _host = new ApiHost(_root, new Dictionary<string, string?> { ["Data:Datasets:0"] = "synthetic", ["Data:Datasets:1"] = "synth-csv" });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    public void Dispose() => _host.Dispose();

    [Fact]
    public async Task A_movielens_ratings_csv_imported_as_it_is_trains_to_the_file_data_sets_fingerprint_and_metrics()
    {
        using HttpClient client = _host.CreateClient();
        await CreateAsync(client, "synth-live");
        string ratings = await File.ReadAllTextAsync(Path.Combine(_root, "data", "synth-csv", "ratings.csv"));
        Assert.Equal(1800, (await OkAsync(ImportAsync(client, "synth-live", "feedback", ratings))).Inserted);
        string movies = await File.ReadAllTextAsync(Path.Combine(_root, "data", "synth-csv", "movies.csv"));
        Assert.Equal((0L, 80L), await OkAsync(ImportAsync(client, "synth-live", "items", movies)) is var r ? (r.Inserted, r.Updated) : default); // the ratings made them bare

        JobView file = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { dataset = "synth-csv", epochs = 2, seed = 5 })).Id, JobState.Succeeded);
        JobView live = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { dataset = "synth-live", epochs = 2, seed = 5 })).Id, JobState.Succeeded);
        JsonElement fileData = (await client.GetFromJsonAsync<JsonElement>($"/models/{file.Id}")).GetProperty("manifest").GetProperty("dataset");
        JsonElement liveData = (await client.GetFromJsonAsync<JsonElement>($"/models/{live.Id}")).GetProperty("manifest").GetProperty("dataset");
        Assert.Equal(fileData.GetProperty("fingerprint").GetString(), liveData.GetProperty("fingerprint").GetString());
        Assert.Equal((fileData.GetProperty("users").GetInt32(), fileData.GetProperty("items").GetInt32(), fileData.GetProperty("ratings").GetInt32()),
            (liveData.GetProperty("users").GetInt32(), liveData.GetProperty("items").GetInt32(), liveData.GetProperty("ratings").GetInt32()));
        Assert.NotNull(file.Test);
        Assert.Equal(file.Test, live.Test);
        Assert.Equal(file.BestValidation, live.BestValidation);
        // Movie titles and genres came with movies.csv.
        JsonElement ranking = await client.GetFromJsonAsync<JsonElement>("/users/1/ranking?dataset=synth-live&k=3");
        Assert.NotEqual("", ranking.GetProperty("items")[0].GetProperty("title").GetString());
        Assert.Equal(1, ranking.GetProperty("items")[0].GetProperty("movieId").GetInt64() > 0 ? 1 : 0);
    }
}

/// <summary>An erased user stays unknown to serving when the model is loaded again from its checkpoint (a restart).</summary>
public sealed class ErasureAcrossRestartTests
{
    [Fact]
    public async Task A_user_erased_before_a_restart_is_not_served_by_the_reloaded_model()
    {
        string root = ApiHost.TempFolder();
        await using (var first = new ApiHost(root))
        {
            using HttpClient client = first.CreateClient();
            await CreateAsync(client, "kept");
            string csv = "userId,itemId,rating,timestamp\n" + string.Concat(Enumerable.Range(0, 600).Select(i => $"u{i % 30},i{i / 10},{1 + i % 5},{1_700_000_000 + i}\n"));
            await OkAsync(ImportAsync(client, "kept", "feedback", csv));
            await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { dataset = "kept", epochs = 1 })).Id, JobState.Succeeded);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/users/u7/ranking?dataset=kept")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync("/datasets/kept/users/u7")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/users/u7/ranking?dataset=kept")).StatusCode);
        }
        await using var second = new ApiHost(root);
        using HttpClient again = second.CreateClient();
        for (int i = 0; i < 600 && (await again.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/users/u8/ranking?dataset=kept")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await again.GetAsync("/users/u7/ranking?dataset=kept")).StatusCode);
    }
}
