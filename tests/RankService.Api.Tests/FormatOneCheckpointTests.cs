using System.Globalization;
using System.Text.Json.Nodes;
using RankService.Tests.Common;

namespace RankService.Api.Tests;

/// <summary>
/// Checkpoints placed in a job's folder serve through the API: one written before ids became strings (format 1,
/// integer ids), and one of a string-id data set.
/// </summary>
public sealed class FormatOneCheckpointTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pre-catalog-run");

    /// <summary>A host whose one succeeded job's checkpoint files are those of <paramref name="source"/>.</summary>
    private static async Task<(ApiHost Host, string JobId)> HostServingAsync(string source)
    {
        string root = ApiHost.TempFolder();
        JobView job;
        await using (var before = new ApiHost(root))
        {
            using HttpClient client = before.CreateClient();
            job = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 1 })).Id, JobState.Succeeded);
        }
        string checkpoints = Path.Combine(root, "jobs", job.Id, "checkpoints");
        Directory.Delete(checkpoints, recursive: true);
        Directory.CreateDirectory(checkpoints);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(checkpoints, Path.GetFileName(file)));
        }
        var after = new ApiHost(root);
        using HttpClient restarted = after.CreateClient();
        for (int i = 0; i < 600 && (await restarted.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }
        return (after, job.Id);
    }

    [Fact]
    public async Task A_string_id_checkpoint_ranks_by_uuid_names_items_without_movie_ids_and_refuses_ids_npy()
    {
        using var model = new Serving.StringIdModel();
        (ApiHost host, string jobId) = await HostServingAsync(Path.GetDirectoryName(model.ManifestPath)!);
        await using ApiHost _ = host;
        using HttpClient client = host.CreateClient();
        string user = model.Data.Users.ToId(2);

        string raw = await client.GetStringAsync($"/users/{user}/ranking?k=5");
        RankingResponse ranking = JsonSerializer.Deserialize<RankingResponse>(raw, ApiHost.Json)!;
        Assert.Equal(user, ranking.UserId);
        Assert.Equal(jobId, ranking.ModelJobId);
        Assert.All(ranking.Items, i => Assert.StartsWith("sku-", i.ItemId, StringComparison.Ordinal));
        Assert.DoesNotContain("movieId", raw, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/users/{user.ToUpperInvariant()}/ranking")).StatusCode);

        HttpResponseMessage npy = await client.GetAsync($"/models/{jobId}/embeddings?side=items&format=ids-npy");
        Assert.Equal(HttpStatusCode.BadRequest, npy.StatusCode);
        string problem = await npy.Content.ReadAsStringAsync();
        Assert.Contains("ids-json", problem, StringComparison.Ordinal);
        Assert.Contains("not all integers", problem, StringComparison.Ordinal);
        string[] ids = (await client.GetFromJsonAsync<string[]>($"/models/{jobId}/embeddings?side=users&format=ids-json"))!;
        Assert.Equal(model.Data.Users.Ids, ids);
        string csv = await client.GetStringAsync($"/models/{jobId}/embeddings?side=items&format=csv");
        Assert.StartsWith(model.Data.Items.ToId(0) + ",", csv.Split('\n')[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_format_1_checkpoint_in_the_artifacts_folder_serves_rankings_with_item_and_movie_ids_and_exports_ids_npy()
    {
        // The job's own checkpoint replaced by the format-1 fixture, as an artifacts folder of the earlier version holds it.
        (ApiHost after, string jobId) = await HostServingAsync(Fixture);
        await using ApiHost _ = after;
        using HttpClient restarted = after.CreateClient();
        JsonNode ids = JsonNode.Parse(File.ReadAllText(Directory.EnumerateFiles(Fixture, "ids-*.json").Single()))!;
        long[] itemIds = ids["itemIds"]!.AsArray().Select(n => n!.GetValue<long>()).ToArray();
        string[] titles = ids["titles"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
        Assert.Equal(1, JsonNode.Parse(File.ReadAllText(Path.Combine(Fixture, "best.manifest.json")))!["format"]!.GetValue<int>());

        RankingResponse ranking = (await restarted.GetFromJsonAsync<RankingResponse>("/users/4/ranking?k=5", ApiHost.Json))!;
        Assert.Equal(jobId, ranking.ModelJobId);
        Assert.Equal("4", ranking.UserId);
        Assert.Equal(5, ranking.Items.Count);
        foreach (var item in ranking.Items)
        {
            long movieId = long.Parse(item.ItemId, CultureInfo.InvariantCulture);
            Assert.Equal(movieId, item.MovieId);
            Assert.Equal(titles[Array.IndexOf(itemIds, movieId)], item.Title);
        }
        string raw = await restarted.GetStringAsync("/users/4/ranking?k=1");
        Assert.Contains("\"movieId\":", raw, StringComparison.Ordinal);
        Assert.Contains("\"itemId\":\"", raw, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await restarted.GetAsync("/users/004/ranking")).StatusCode);

        NpyArray exported = NpyArray.Read(await restarted.GetByteArrayAsync($"/models/{jobId}/embeddings?side=items&format=ids-npy"));
        Assert.Equal(itemIds, exported.Longs());
        string[] json = (await restarted.GetFromJsonAsync<string[]>($"/models/{jobId}/embeddings?side=items&format=ids-json"))!;
        Assert.Equal(itemIds.Select(i => i.ToString(CultureInfo.InvariantCulture)), json);
    }
}
