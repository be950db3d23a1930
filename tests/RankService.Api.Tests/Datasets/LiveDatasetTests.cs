using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RankService.Api.Datasets;
using static RankService.Api.Tests.Datasets.DatasetClient;

namespace RankService.Api.Tests.Datasets;

/// <summary>Live data sets through HTTP on the default SQLite store: create, feed, import, export, erase.</summary>
public sealed class LiveDatasetTests(EmptyService service) : IClassFixture<EmptyService>
{
    private HttpClient Client => service.Client;

    private static string NewName() => LiveDatasetScenarios.NewName();

    [Fact]
    public async Task Put_creates_a_data_set_then_updates_its_settings_with_a_new_version()
    {
        string name = NewName();
        HttpResponseMessage created = await PutAsync(Client, name, new { feedbackTypes = new Dictionary<string, double> { ["purchase"] = 3, ["click"] = 1, ["dislike"] = -1 } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/datasets/{name}", created.Headers.Location?.OriginalString);
        DatasetView first = (await created.Content.ReadFromJsonAsync<DatasetView>(ApiHost.Json))!;
        Assert.Equal("live", first.Kind);
        Assert.Equal(3, first.Settings!.FeedbackTypes!["purchase"]);

        HttpResponseMessage updated = await PutAsync(Client, name, new { feedbackTypes = new Dictionary<string, double> { ["view"] = 0.5 }, autoCreateItems = false });
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        DatasetView second = await GetAsync(Client, name);
        Assert.Equal(first.Version + 1, second.Version);
        Assert.False(second.Settings!.AutoCreateItems);
        Assert.Equal(["view"], second.Settings.FeedbackTypes!.Keys);

        List<DatasetView> all = (await Client.GetFromJsonAsync<List<DatasetView>>("/datasets", ApiHost.Json))!;
        Assert.Contains(all, d => d.Name == "synthetic" && d.Kind == "file" && d.Users is null);
        Assert.Contains(all, d => d.Name == name && d.Kind == "live" && d.Users == 0);
    }

    [Theory]
    [InlineData("synthetic", "file data set")]
    [InlineData("a%20b", "1 to 64")]
    [InlineData("...", "only dots")]
    [InlineData("x12345678901234567890123456789012345678901234567890123456789012345", "1 to 64")]
    public async Task Put_refuses_unsafe_names_and_the_names_of_file_data_sets(string name, string reason)
    {
        HttpResponseMessage response = await PutAsync(Client, name);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Put_refuses_bad_feedback_types_and_wrong_json_types()
    {
        HttpResponseMessage noTypes = await PutAsync(Client, NewName(), new { feedbackTypes = new Dictionary<string, double>() });
        Assert.Equal(HttpStatusCode.BadRequest, noTypes.StatusCode);
        HttpResponseMessage badType = await PutAsync(Client, NewName(), new { feedbackTypes = new Dictionary<string, double> { ["a b"] = 1 } });
        Assert.Equal(HttpStatusCode.BadRequest, badType.StatusCode);
        HttpResponseMessage wrongJson = await Client.PutAsync($"/datasets/{NewName()}", new StringContent("""{"feedbackTypes": {"click": "one"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongJson.StatusCode);
        Assert.DoesNotContain("System.", await wrongJson.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_without_the_api_key_answer_401()
    {
        string name = NewName();
        await CreateAsync(Client, name);
        using HttpClient anonymous = service.Host.CreateClientWithKey(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PutAsync(anonymous, NewName())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ImportAsync(anonymous, name, "feedback", "userId,itemId,rating\n1,2,4\n")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(anonymous, name, "feedback", Array.Empty<object>())).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync($"/datasets/{name}/users/1")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync($"/datasets/{name}")).StatusCode);
        Assert.Equal(0, (await GetAsync(Client, name)).Feedback);
    }

    [Fact]
    public Task Csv_and_ndjson_imports_and_batches_add_up_and_export_round_trips() => LiveDatasetScenarios.Csv_and_ndjson_imports_and_batches_add_up_and_export_round_trips(Client, service.Host.Services);

    [Fact]
    public Task A_snapshot_sums_weights_per_pair_keeps_first_insertion_order_and_turns_negative_totals_into_never_recommend() => LiveDatasetScenarios.A_snapshot_sums_weights_per_pair_keeps_first_insertion_order_and_turns_negative_totals_into_never_recommend(Client, service.Host.Services);

    [Fact]
    public Task A_batch_with_bad_records_is_refused_whole_naming_each_by_index_and_field() => LiveDatasetScenarios.A_batch_with_bad_records_is_refused_whole_naming_each_by_index_and_field(Client, service.Host.Services);

    [Fact]
    public async Task Duplicate_items_in_one_batch_or_import_are_refused()
    {
        string name = NewName();
        await CreateAsync(Client, name);
        HttpResponseMessage batch = await PostAsync(Client, name, "items", new[] { new { itemId = "a" }, new { itemId = "b" }, new { itemId = "a" } });
        Assert.Equal([(2L, "itemId")], (await RefusedAsync(batch, "index")).Problems.Select(p => (p.At, p.Field)));
        HttpResponseMessage import = await ImportAsync(Client, name, "items", "itemId,title\na,A\nb,B\na,A again\n");
        (long _, List<(long At, string Field, string Message)> problems) = await RefusedAsync(import, "line");
        Assert.Equal((4L, "itemId"), (problems.Single().At, problems.Single().Field));
        Assert.Contains("line 2", problems.Single().Message, StringComparison.Ordinal);
        Assert.Equal(0, (await GetAsync(Client, name)).Items);
    }

    [Fact]
    public async Task A_batch_of_10000_records_is_accepted_and_one_of_10001_refused()
    {
        string name = NewName();
        await CreateAsync(Client, name);
        object[] records = Enumerable.Range(0, DatasetsApi.MaxBatchRecords).Select(i => (object)new { userId = $"u{i % 97}", itemId = $"i{i}", value = 4.0 }).ToArray();
        Assert.Equal(10_000, (await OkAsync(PostAsync(Client, name, "feedback", records))).Inserted);
        HttpResponseMessage tooMany = await PostAsync(Client, name, "feedback", records.Append(new { userId = "u", itemId = "i", value = 1.0 }).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("10000", await tooMany.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(10_000, (await GetAsync(Client, name)).Feedback);
    }

    [Fact]
    public async Task An_import_with_bad_lines_names_them_by_line_number_and_field_and_writes_nothing()
    {
        string name = NewName();
        await CreateAsync(Client, name);
        string csv = "userId,movieId,rating,timestamp\n1,10,4.0,881250949\n2,\"11,3.5,881250950\n3,12,lots,881250951\n4,13,4\n5,14,3.0,soon\n6,,3.0,881250952\n";
        HttpResponseMessage response = await ImportAsync(Client, name, "feedback", csv);
        (long refused, List<(long At, string Field, string Message)> problems) = await RefusedAsync(response, "line");
        Assert.Equal(5, refused);
        Assert.Equal([(3L, ""), (4, "value"), (5, ""), (6, "timestamp"), (7, "itemId")], problems.Select(p => (p.At, p.Field)));
        Assert.Equal(0, (await GetAsync(Client, name)).Feedback);

        HttpResponseMessage ndjson = await ImportAsync(Client, name, "feedback", "{\"userId\": \"1\", \"itemId\": \"2\", \"value\": 4}\n{\"userId\": \n[1]\n", "application/x-ndjson");
        Assert.Equal([2L, 3L], (await RefusedAsync(ndjson, "line")).Problems.Select(p => p.At));

        HttpResponseMessage header = await ImportAsync(Client, name, "feedback", "userId,itemId,stars\n1,2,4\n");
        Assert.Contains("stars", (await RefusedAsync(header, "line")).Problems.Single().Message, StringComparison.Ordinal);
        Assert.Equal(0, (await GetAsync(Client, name)).Feedback);
    }

    [Fact]
    public async Task More_than_100_bad_lines_name_the_first_100_and_count_them_all()
    {
        string name = NewName();
        await CreateAsync(Client, name);
        string csv = "userId,itemId,rating\n" + string.Concat(Enumerable.Range(0, 250).Select(i => $"u{i},i{i},x\n"));
        (long refused, List<(long At, string Field, string Message)> problems) = await RefusedAsync(await ImportAsync(Client, name, "feedback", csv), "line");
        Assert.Equal(250, refused);
        Assert.Equal(100, problems.Count);
        Assert.Equal(2, problems[0].At);
    }

    [Fact]
    public Task Feedback_for_an_unknown_item_is_refused_when_the_data_set_does_not_create_items() => LiveDatasetScenarios.Feedback_for_an_unknown_item_is_refused_when_the_data_set_does_not_create_items(Client, service.Host.Services);

    [Fact]
    public Task Ids_from_earlier_imports_keep_their_keys_and_a_refused_import_leaves_nothing_for_later_ones() =>
        LiveDatasetScenarios.Ids_from_earlier_imports_keep_their_keys_and_a_refused_import_leaves_nothing_for_later_ones(Client, service.Host.Services);

    [Fact]
    public Task A_connection_dropped_mid_import_leaves_the_data_set_unchanged() => LiveDatasetScenarios.A_connection_dropped_mid_import_leaves_the_data_set_unchanged(Client, service.Host.Services);

    [Fact]
    public Task Concurrent_imports_into_one_data_set_both_commit_whole_and_the_counts_add_up() => LiveDatasetScenarios.Concurrent_imports_into_one_data_set_both_commit_whole_and_the_counts_add_up(Client, service.Host.Services);

    [Fact]
    public Task Erasing_a_user_deletes_their_feedback_and_a_second_erase_answers_404() => LiveDatasetScenarios.Erasing_a_user_deletes_their_feedback_and_a_second_erase_answers_404(Client, service.Host.Services);

    [Fact]
    public async Task Unknown_data_sets_kinds_and_media_types_answer_problems()
    {
        string name = NewName();
        await CreateAsync(Client, name);
        foreach (HttpResponseMessage missing in new[]
        {
            await Client.GetAsync("/datasets/nope-nope"),
            await ImportAsync(Client, "nope-nope", "feedback", "userId,itemId\n"),
            await PostAsync(Client, "nope-nope", "items", Array.Empty<object>()),
            await Client.GetAsync("/datasets/nope-nope/export?kind=items"),
            await Client.DeleteAsync("/datasets/nope-nope/users/u"),
            await Client.DeleteAsync("/datasets/nope-nope"),
        })
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await ImportAsync(Client, name, "ratings", "userId,itemId\n")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Client.GetAsync($"/datasets/{name}/export?kind=all")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await ImportAsync(Client, name, "feedback", "userId,itemId\n", "text/plain")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Client.PostAsync($"/datasets/{name}/feedback", new StringContent("[]", Encoding.UTF8, "text/csv"))).StatusCode);
        HttpResponseMessage notArray = await Client.PostAsync($"/datasets/{name}/feedback", new StringContent("{\"userId\": 1}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, notArray.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.DeleteAsync("/datasets/synthetic")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/datasets/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Client.GetAsync($"/datasets/{name}")).StatusCode);
    }
}

/// <summary>The scenarios run on both stores (SQLite here, PostgreSQL in <see cref="PostgresLiveDatasetTests"/>).</summary>
internal static class LiveDatasetScenarios
{
    public static string NewName() => $"shop-{Guid.NewGuid():N}"[..20];

    public static async Task Csv_and_ndjson_imports_and_batches_add_up_and_export_round_trips(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name, new { feedbackTypes = new Dictionary<string, double> { ["purchase"] = 3, ["click"] = 1, ["dislike"] = -1 } });
        DatasetWriteResult items = await OkAsync(ImportAsync(client, name, "items",
            "itemId,title,categories,hidden,timestamp,labels\n" +
            "sku-1,\"Mug, large\",kitchen|gifts,false,2024-05-01T12:00:00Z,\"{\"\"colour\"\":\"\"red\"\"}\"\n" +
            "sku-2,Kettle,kitchen,true,1714564800,\n"));
        Assert.Equal((2, 0), (items.Inserted, items.Updated));
        DatasetWriteResult more = await OkAsync(ImportAsync(client, name, "items",
            """
            {"itemId": "sku-3", "title": "Café au lait", "categories": ["drinks"]}
            {"itemId": "sku-1", "title": "Mug, larger"}

            """, "application/x-ndjson"));
        Assert.Equal((1, 1), (more.Inserted, more.Updated));
        DatasetWriteResult feedback = await OkAsync(ImportAsync(client, name, "feedback",
            "userId,itemId,type,timestamp\nu-1,sku-1,purchase,1714564900\nu-1,sku-2,click,2024-05-01T12:05:00Z\nu-2,sku-9,dislike,1714565000\n"));
        Assert.Equal(3, feedback.Inserted);
        DatasetWriteResult batch = await OkAsync(PostAsync(client, name, "feedback", new[]
        {
            new { userId = "u-2", itemId = "sku-1", type = "click", timestamp = 1714565100 },
            new { userId = "u-3", itemId = "sku-3", type = "purchase", timestamp = 1714565200 },
        }));
        Assert.Equal((2, 0, 0), (batch.Inserted, batch.Updated, batch.Refused));

        DatasetView view = await GetAsync(client, name);
        Assert.Equal((3L, 4L, 5L), (view.Users!.Value, view.Items!.Value, view.Feedback!.Value)); // sku-9 created by its feedback
        Assert.Equal(1714565200, view.LastFeedbackAt);
        Assert.Equal(batch.Version, view.Version);

        List<JsonElement> exportedItems = await ExportAsync(client, name, "items");
        Assert.Equal(["sku-1", "sku-2", "sku-3", "sku-9"], exportedItems.Select(e => e.GetProperty("itemId").GetString()));
        Assert.Equal("Mug, larger", exportedItems[0].GetProperty("title").GetString());
        Assert.True(exportedItems[1].GetProperty("hidden").GetBoolean());
        Assert.Equal(1714564800, exportedItems[1].GetProperty("timestamp").GetInt64());
        Assert.False(exportedItems[0].TryGetProperty("timestamp", out _)); // an update replaces the whole item
        Assert.Equal("Café au lait", exportedItems[2].GetProperty("title").GetString());
        List<JsonElement> exportedFeedback = await ExportAsync(client, name, "feedback");
        Assert.Equal(5, exportedFeedback.Count);
        Assert.Equal(1714564800 + 300, exportedFeedback[1].GetProperty("timestamp").GetInt64());

        // The export imports back into another data set as it is.
        string copy = NewName();
        await CreateAsync(client, copy, new { feedbackTypes = new Dictionary<string, double> { ["purchase"] = 3, ["click"] = 1, ["dislike"] = -1 } });
        string itemLines = string.Join('\n', exportedItems.Select(e => e.GetRawText()));
        string feedbackLines = string.Join('\n', exportedFeedback.Select(e => e.GetRawText()));
        await OkAsync(ImportAsync(client, copy, "items", itemLines, "application/x-ndjson"));
        await OkAsync(ImportAsync(client, copy, "feedback", feedbackLines, "application/x-ndjson"));
        Assert.Equal(exportedFeedback.Select(e => e.GetRawText()), (await ExportAsync(client, copy, "feedback")).Select(e => e.GetRawText()));
        Assert.Equal(exportedItems.Select(e => e.GetRawText()), (await ExportAsync(client, copy, "items")).Select(e => e.GetRawText()));
    }

    public static async Task A_snapshot_sums_weights_per_pair_keeps_first_insertion_order_and_turns_negative_totals_into_never_recommend(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name, new { feedbackTypes = new Dictionary<string, double> { ["purchase"] = 3, ["click"] = 1, ["dislike"] = -5, ["rating"] = 1 } });
        await OkAsync(PostAsync(client, name, "feedback", new object[]
        {
            new { userId = "b", itemId = "x", type = "click", timestamp = 10 },
            new { userId = "a", itemId = "y", type = "purchase", timestamp = 20 },
            new { userId = "b", itemId = "x", type = "purchase", timestamp = 30 },
            new { userId = "a", itemId = "x", type = "click", timestamp = 40 },
            new { userId = "a", itemId = "x", type = "dislike", timestamp = 50 },
            new { userId = "c", itemId = "z", type = "rating", value = 2.0, timestamp = 60 },
            new { userId = "c", itemId = "z", type = "rating", value = 4.5, timestamp = 70 },
        }));
        ILiveDatasetStore store = services.GetRequiredService<ILiveDatasetStore>();
        LiveSnapshot snapshot = (await store.ReadSnapshotAsync(name, CancellationToken.None))!;
        Assert.Equal(["b", "a", "c"], snapshot.Users);
        Assert.Equal(["x", "y", "z"], snapshot.Items.Select(i => i.ItemId));
        Assert.Equal([("b", "x", 4f, 30L), ("a", "y", 3f, 20L), ("c", "z", 4.5f, 70L)],
            snapshot.Pairs.Select(p => (snapshot.Users[p.User], snapshot.Items[p.Item].ItemId, p.Label, p.Timestamp!.Value)));
        SnapshotPair never = Assert.Single(snapshot.NeverRecommend);
        Assert.Equal(("a", "x", -4f), (snapshot.Users[never.User], snapshot.Items[never.Item].ItemId, never.Label));
        Assert.True(snapshot.AllTimed);
        Assert.Equal((await GetAsync(client, name)).Version, snapshot.Version);
    }

    public static async Task A_batch_with_bad_records_is_refused_whole_naming_each_by_index_and_field(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name, new { feedbackTypes = new Dictionary<string, double> { ["click"] = 1, ["rating"] = 1 } });
        DatasetView before = await GetAsync(client, name);
        string body = $$"""
            [
              {"userId": "u1", "itemId": "i1", "type": "click"},
              {"userId": "u1", "itemId": "i1", "type": "click"},
              {"userId": "{{new string('u', 257)}}", "itemId": "i2", "type": "click"},
              {"userId": "u\u0007", "itemId": "i2", "type": "click"},
              {"userId": "u2", "itemId": "i/2", "type": "click"},
              {"userId": "u2", "itemId": "i2", "type": "click", "value": "high"},
              {"userId": 7, "itemId": "i2", "type": "click"},
              {"userId": "u2", "itemId": "i2", "type": "view"},
              {"userId": "u2", "itemId": "i2", "type": "rating"},
              {"userId": "u2", "itemId": "i2", "type": "click", "timestamp": "yesterday"},
              {"userId": "u2", "itemId": "i2", "type": "click", "colour": "red"},
              "not an object",
              {"itemId": "i3", "type": "click"}
            ]
            """;
        HttpResponseMessage response = await client.PostAsync($"/datasets/{name}/feedback", new StringContent(body, Encoding.UTF8, "application/json"));
        (long refused, List<(long At, string Field, string Message)> problems) = await RefusedAsync(response, "index");
        Assert.Equal(12, refused);
        Assert.Equal([(1L, ""), (2, "userId"), (3, "userId"), (4, "itemId"), (5, "value"), (6, "userId"), (7, "type"), (8, "value"), (9, "timestamp"), (10, "colour"), (11, ""), (12, "userId")],
            problems.Select(p => (p.At, p.Field)));
        Assert.Contains("256", problems[1].Message, StringComparison.Ordinal);
        Assert.Contains("control", problems[2].Message, StringComparison.Ordinal);
        DatasetView after = await GetAsync(client, name);
        Assert.Equal((before.Version, 0L, 0L), (after.Version, after.Users!.Value, after.Feedback!.Value));
    }

    public static async Task Feedback_for_an_unknown_item_is_refused_when_the_data_set_does_not_create_items(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name, new { autoCreateItems = false });
        await OkAsync(PostAsync(client, name, "items", new[] { new { itemId = "known" } }));
        HttpResponseMessage response = await ImportAsync(client, name, "feedback", "userId,itemId,rating\nu,known,4\nu,unknown,3\n");
        Assert.Equal([(3L, "itemId")], (await RefusedAsync(response, "line")).Problems.Select(p => (p.At, p.Field)));
        DatasetView view = await GetAsync(client, name);
        Assert.Equal((0L, 0L, 1L), (view.Feedback!.Value, view.Users!.Value, view.Items!.Value));
    }

    public static async Task Ids_from_earlier_imports_keep_their_keys_and_a_refused_import_leaves_nothing_for_later_ones(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name, new { feedbackTypes = new Dictionary<string, double> { ["click"] = 1, ["purchase"] = 3 } });
        await OkAsync(ImportAsync(client, name, "feedback", "userId,itemId,type,timestamp\nu1,i1,click,10\nu2,i2,click,20\n"));
        // A new user and a new item first seen on one line, known ids with new ones, and known pairs again.
        DatasetWriteResult second = await OkAsync(ImportAsync(client, name, "feedback",
            "userId,itemId,type,timestamp\nu3,i3,click,30\nu1,i4,purchase,40\nu2,i1,click,50\nu1,i1,purchase,60\n"));
        Assert.Equal(4, second.Inserted);
        // New ids drawn before a later line is refused: none of it stays.
        DatasetView before = await GetAsync(client, name);
        HttpResponseMessage refused = await ImportAsync(client, name, "feedback",
            "userId,itemId,type,timestamp\n" + string.Concat(Enumerable.Range(0, 2000).Select(i => $"n{i},m{i % 700},click,70\n")) + "u9,i9,view,80\n");
        Assert.Equal([(2002L, "type")], (await RefusedAsync(refused, "line")).Problems.Select(p => (p.At, p.Field)));
        DatasetView unchanged = await GetAsync(client, name);
        Assert.Equal((before.Version, 3L, 4L, 6L), (unchanged.Version, unchanged.Users!.Value, unchanged.Items!.Value, unchanged.Feedback!.Value));
        await OkAsync(ImportAsync(client, name, "feedback", "userId,itemId,type,timestamp\nn5,m5,click,90\nu3,m5,click,100\n"));

        LiveSnapshot snapshot = (await services.GetRequiredService<ILiveDatasetStore>().ReadSnapshotAsync(name, CancellationToken.None))!;
        Assert.Equal(["u1", "u2", "u3", "n5"], snapshot.Users);
        Assert.Equal(["i1", "i2", "i3", "i4", "m5"], snapshot.Items.Select(i => i.ItemId));
        Assert.Equal([("u1", "i1", 4f), ("u2", "i2", 1f), ("u3", "i3", 1f), ("u1", "i4", 3f), ("u2", "i1", 1f), ("n5", "m5", 1f), ("u3", "m5", 1f)],
            snapshot.Pairs.Select(p => (snapshot.Users[p.User], snapshot.Items[p.Item].ItemId, p.Label)));
        DatasetView view = await GetAsync(client, name);
        Assert.Equal((4L, 5L, 8L, 100L), (view.Users!.Value, view.Items!.Value, view.Feedback!.Value, view.LastFeedbackAt!.Value));
    }

    public static async Task A_connection_dropped_mid_import_leaves_the_data_set_unchanged(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name);
        await OkAsync(ImportAsync(client, name, "feedback", "userId,itemId,rating\nkeep,me,5\n"));
        DatasetView before = await GetAsync(client, name);
        IEnumerable<string> pieces = new[] { "userId,itemId,rating\n" }.Concat(Enumerable.Range(0, 50).Select(i => string.Concat(Enumerable.Range(0, 100).Select(j => $"u{i},i{j},4\n"))));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/datasets/{name}/import?kind=feedback") { Content = new BrokenContent(pieces, failAfter: 30) };
        await Assert.ThrowsAnyAsync<Exception>(() => client.SendAsync(request));
        // The server sees the body end early; once it has given up, nothing of the broken import is there.
        DatasetView after = await GetAsync(client, name);
        for (int i = 0; i < 50 && after.Version == before.Version; i++)
        {
            await Task.Delay(20);
            after = await GetAsync(client, name);
        }
        Assert.Equal((before.Version, before.Feedback, before.Users), (after.Version, after.Feedback, after.Users));
        Assert.Single(await ExportAsync(client, name, "feedback"));
    }

    public static async Task Concurrent_imports_into_one_data_set_both_commit_whole_and_the_counts_add_up(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name);
        string Csv(string prefix) => "userId,itemId,rating\n" + string.Concat(Enumerable.Range(0, 3000).Select(i => $"{prefix}{i % 300},i{i % 400},{1 + i % 5}\n"));
        DatasetWriteResult[] results = await Task.WhenAll(
            OkAsync(ImportAsync(client, name, "feedback", Csv("a"))),
            OkAsync(ImportAsync(client, name, "feedback", Csv("b"))),
            OkAsync(PostAsync(client, name, "feedback", Enumerable.Range(0, 500).Select(i => new { userId = $"c{i}", itemId = "i0", value = 3.0 }).ToArray())));
        Assert.Equal([3000L, 3000, 500], results.Select(r => r.Inserted));
        Assert.Equal(3, results.Select(r => r.Version).Distinct().Count());
        DatasetView view = await GetAsync(client, name);
        Assert.Equal((6500L, 1100L, 400L), (view.Feedback!.Value, view.Users!.Value, view.Items!.Value));
        Assert.Equal(results.Max(r => r.Version), view.Version);
    }

    public static async Task Erasing_a_user_deletes_their_feedback_and_a_second_erase_answers_404(HttpClient client, IServiceProvider services)
    {
        string name = NewName();
        await CreateAsync(client, name);
        await OkAsync(ImportAsync(client, name, "feedback", "userId,itemId,rating,timestamp\nalice,a,4,100\nbob,a,3,200\nalice,b,5,300\n"));
        HttpResponseMessage erase = await client.DeleteAsync($"/datasets/{name}/users/alice");
        Assert.Equal(HttpStatusCode.OK, erase.StatusCode);
        ErasedUserView erased = (await erase.Content.ReadFromJsonAsync<ErasedUserView>(ApiHost.Json))!;
        Assert.Equal(2, erased.FeedbackErased);
        List<JsonElement> left = await ExportAsync(client, name, "feedback");
        Assert.Equal(["bob"], left.Select(e => e.GetProperty("userId").GetString()));
        DatasetView view = await GetAsync(client, name);
        Assert.Equal((1L, 1L, 200L, erased.Version), (view.Users!.Value, view.Feedback!.Value, view.LastFeedbackAt!.Value, view.Version!.Value));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/datasets/{name}/users/alice")).StatusCode);
        // The user can come back as new.
        await OkAsync(ImportAsync(client, name, "feedback", "userId,itemId,rating\nalice,c,2\n"));
        Assert.Equal(2, (await GetAsync(client, name)).Users);
    }
}

/// <summary>A host with small body limits, to cross them cheaply.</summary>
public sealed class SmallLimitService() : ServiceFixture(new Dictionary<string, string?>
{
    ["Data:MaxImportBytes"] = "4096",
    ["Data:MaxBatchBytes"] = "2048",
});

public sealed class DatasetBodyLimitTests(SmallLimitService service) : IClassFixture<SmallLimitService>
{
    [Fact]
    public async Task An_import_over_the_limit_answers_413_and_writes_nothing_whether_its_length_is_declared_or_not()
    {
        HttpClient client = service.Client;
        await CreateAsync(client, "limits");
        string big = "userId,itemId,rating\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"u{i},i{i},4\n"));
        HttpResponseMessage declared = await ImportAsync(client, "limits", "feedback", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Contains("4096", await declared.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/datasets/limits/import?kind=feedback")
        {
            Content = new BrokenContent(big.Chunk(100).Select(c => new string(c)), failAfter: int.MaxValue),
        };
        HttpResponseMessage streamed = await client.SendAsync(chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Equal(0, (await GetAsync(client, "limits")).Feedback);

        Assert.Equal(200, (int)(await ImportAsync(client, "limits", "feedback", "userId,itemId,rating\nu,i,4\n")).StatusCode);
        HttpResponseMessage batch = await PostAsync(client, "limits", "feedback", Enumerable.Range(0, 100).Select(i => new { userId = $"u{i}", itemId = "i", value = 1.0 }).ToArray());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, batch.StatusCode);
    }

    [Fact]
    public async Task An_import_larger_than_the_global_body_limit_is_accepted_under_its_own_limit()
    {
        using var host = new ApiHost(overrides: new Dictionary<string, string?> { ["Security:MaxRequestBodyBytes"] = "1024" });
        using HttpClient client = host.CreateClient();
        await CreateAsync(client, "bigger");
        string csv = "userId,itemId,rating\n" + string.Concat(Enumerable.Range(0, 300).Select(i => $"u{i},i{i},4\n"));
        Assert.True(Encoding.UTF8.GetByteCount(csv) > 1024);
        Assert.Equal(300, (await OkAsync(ImportAsync(client, "bigger", "feedback", csv))).Inserted);
        HttpResponseMessage job = await client.PostAsync("/jobs", new StringContent(new string(' ', 2000) + "{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, job.StatusCode);
    }
}
