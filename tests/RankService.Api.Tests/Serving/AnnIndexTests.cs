using RankService.Api.Serving;
using RankService.Ranking.Data;
using RankService.Ranking.Index;

namespace RankService.Api.Tests.Serving;

/// <summary>
/// The approximate index through HTTP on the synthetic set (150 items), with Serving:AnnMinItems set below it so the
/// index path runs; a tight first candidate count makes the seen-item filter exercise the growing search.
/// </summary>
public sealed class AnnIndexTests
{
    private static readonly Dictionary<string, string?> Indexed = new()
    {
        ["Serving:AnnMinItems"] = "10",
        ["Serving:Ann:MinCandidates"] = "12",
        ["Serving:Ann:MaxCandidates"] = "150",
        ["Metrics:AllowedFromAnyAddress"] = "true", // the test server's client is not a loopback connection
    };

    private static readonly RatingDataset Data = SyntheticMovieLens.Generate(ApiHost.Synthetic);
    private static readonly string[] RawUsers = [.. Data.Users.Ids];

    [Fact]
    public async Task A_finished_job_builds_its_index_and_models_report_the_recall_rankings_through_it_have()
    {
        await using var host = new ApiHost(overrides: Indexed);
        using HttpClient client = host.CreateClient();
        JobView job = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 2, seed = 5 })).Id, JobState.Succeeded);
        IndexView index = await WaitForIndexAsync(client, job.Id, IndexStates.Serving);
        Assert.Equal(Data.ItemCount, index.Items);
        Assert.Equal(ItemIndexManifest.LibraryName, index.Library);

        // Every user was sampled (fewer than 1,000): the reported recall is the overlap of the two paths over all of them.
        Assert.Equal(RawUsers.Length, index.RecallUsers);
        double overlap = 0;
        foreach (string user in RawUsers)
        {
            RankingResponse approximate = (await client.GetFromJsonAsync<RankingResponse>($"/users/{user}/ranking", ApiHost.Json))!;
            RankingResponse exact = (await client.GetFromJsonAsync<RankingResponse>($"/users/{user}/ranking?exact=true", ApiHost.Json))!;
            Assert.False(exact.Approximate);
            Assert.Equal(10, approximate.Items.Count); // the seen-item filter never shortens the answer
            Assert.Equal(10, approximate.Items.Select(m => m.ItemId).Distinct().Count());
            overlap += approximate.Items.Select(m => m.ItemId).Intersect(exact.Items.Select(m => m.ItemId)).Count() / 10.0;
        }
        Assert.Equal(Math.Round(overlap / RawUsers.Length, 4), index.RecallAt10!.Value, 4);
        Assert.InRange(index.RecallFallbacks!.Value, 0, RawUsers.Length);
        Assert.True((await client.GetFromJsonAsync<RankingResponse>($"/users/{RawUsers[0]}/ranking", ApiHost.Json))!.Approximate);

        // The serving index's recall is what /metrics says for the data set.
        string scrape = await client.GetStringAsync("/metrics");
        string line = Assert.Single(scrape.Split('\n'), l => l.StartsWith("rankservice_index_recall{", StringComparison.Ordinal) && l.Contains("dataset=\"synthetic\"", StringComparison.Ordinal));
        Assert.InRange(double.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture), index.RecallAt10!.Value - 1e-4, index.RecallAt10.Value + 1e-4);
    }

    [Fact]
    public async Task A_corrupt_index_file_is_refused_and_rebuilt_while_rankings_keep_answering()
    {
        string root = ApiHost.TempFolder();
        string jobId;
        await using (var host = new ApiHost(root, Indexed))
        {
            using HttpClient client = host.CreateClient();
            jobId = (await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 1, seed = 6 })).Id, JobState.Succeeded)).Id;
            await WaitForIndexAsync(client, jobId, IndexStates.Serving);
        }
        string checkpoint = Path.Combine(root, "jobs", jobId, "checkpoints", "best.manifest.json");
        ItemIndexManifest before = ItemIndexFile.TryReadManifest(checkpoint)!;
        string file = Path.Combine(Path.GetDirectoryName(checkpoint)!, before.File);
        byte[] bytes = File.ReadAllBytes(file);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(file, bytes);

        await using var after = new ApiHost(root, Indexed);
        using HttpClient restarted = after.CreateClient();
        IndexView? seen = null;
        for (int i = 0; i < 600 && seen?.State != IndexStates.Serving; i++)
        {
            // Rankings answer in full whatever the index is doing (exact until the rebuilt one is attached).
            HttpResponseMessage response = await restarted.GetAsync($"/users/{RawUsers[0]}/ranking");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal(10, (await response.Content.ReadFromJsonAsync<RankingResponse>(ApiHost.Json))!.Items.Count);
            }
            else
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode); // the start-up load has not finished
            }
            seen = (await ModelAsync(restarted, jobId))?.Index;
            await Task.Delay(50);
        }
        Assert.Equal(IndexStates.Serving, seen?.State);
        Assert.True((await restarted.GetFromJsonAsync<RankingResponse>($"/users/{RawUsers[0]}/ranking", ApiHost.Json))!.Approximate);

        string log = string.Concat(Directory.GetFiles(Path.Combine(root, "logs")).Select(ReadShared));
        Assert.Contains(log.Split('\n'), line => line.Contains("Index of job", StringComparison.Ordinal) && line.Contains(jobId, StringComparison.Ordinal)
            && line.Contains("corrupt or truncated", StringComparison.Ordinal));
        // The rebuilt index is on disk under its own hash and verifies.
        ItemIndexManifest rebuilt = ItemIndexFile.TryReadManifest(checkpoint)!;
        Assert.NotEqual(before.CreatedAt, rebuilt.CreatedAt);
        Assert.Equal(rebuilt.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            File.ReadAllBytes(Path.Combine(Path.GetDirectoryName(checkpoint)!, rebuilt.File)))));
    }

    [Fact]
    public async Task A_catalogue_below_the_threshold_ranks_exactly_and_says_so()
    {
        await using var host = new ApiHost(); // AnnMinItems 20,000 by default
        using HttpClient client = host.CreateClient();
        JobView job = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 1, seed = 7 })).Id, JobState.Succeeded);
        IndexView index = await WaitForIndexAsync(client, job.Id, IndexStates.Exact);
        Assert.Null(index.RecallAt10);
        Assert.False(File.Exists(ItemIndexFile.ManifestPath(Path.Combine(host.ArtifactsRoot, "jobs", job.Id, "checkpoints", "best.manifest.json"))));
        Assert.False((await client.GetFromJsonAsync<RankingResponse>($"/users/{RawUsers[0]}/ranking", ApiHost.Json))!.Approximate);

        HttpResponseMessage bad = await client.GetAsync($"/users/{RawUsers[0]}/ranking?exact=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        string body = await bad.Content.ReadAsStringAsync();
        Assert.Equal("exact must be true or false; got 'maybe'.", JsonDocument.Parse(body).RootElement.GetProperty("errors").GetProperty("exact")[0].GetString());
    }

    private static async Task<ModelView?> ModelAsync(HttpClient client, string jobId)
    {
        HttpResponseMessage response = await client.GetAsync("/models");
        return response.IsSuccessStatusCode
            ? (await response.Content.ReadFromJsonAsync<List<ModelView>>(ApiHost.Json))!.SingleOrDefault(m => m.JobId == jobId)
            : null;
    }

    private static async Task<IndexView> WaitForIndexAsync(HttpClient client, string jobId, string state)
    {
        for (int i = 0; i < 600; i++)
        {
            if ((await ModelAsync(client, jobId))?.Index is { } index && index.State == state)
            {
                return index;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {jobId}'s index never reached '{state}'.");
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
