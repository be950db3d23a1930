using System.Text.Json.Nodes;

namespace RankService.Api.Tests;

public sealed class RestartTests
{
    [Fact]
    public async Task A_restarted_host_lists_earlier_jobs_serves_the_best_model_and_fails_interrupted_ones()
    {
        string root = ApiHost.TempFolder();
        JobView trained;
        await using (var before = new ApiHost(root))
        {
            using HttpClient client = before.CreateClient();
            JobView job = await ApiHost.PostJobAsync(client, new { epochs = 3 });
            trained = await ApiHost.WaitForStateAsync(client, job.Id, JobState.Succeeded);
        }

        // A job that was running when the process died: its status record still says "running".
        string crashedId = JobStore.NewId();
        string crashed = Path.Combine(root, "jobs", crashedId);
        Directory.CreateDirectory(crashed);
        JsonNode status = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "jobs", trained.Id, "status.json")))!;
        status["id"] = crashedId;
        status["state"] = "running";
        status["finishedAt"] = null;
        status["createdAt"] = DateTimeOffset.UtcNow;
        File.WriteAllText(Path.Combine(crashed, "status.json"), status.ToJsonString());

        await using var after = new ApiHost(root);
        using HttpClient restarted = after.CreateClient();
        JobPage page = (await restarted.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!;
        Assert.Equal([crashedId, trained.Id], page.Items.Select(j => j.Id));

        JobView interrupted = page.Items[0];
        Assert.Equal(JobState.Failed, interrupted.State);
        Assert.StartsWith("interrupted", interrupted.Error, StringComparison.Ordinal);

        JobView earlier = page.Items[1];
        Assert.Equal(JobState.Succeeded, earlier.State);
        Assert.Equal(trained.BestValidation!["NDCG@10"], earlier.BestValidation!["NDCG@10"]);
        JobMetrics metrics = (await restarted.GetFromJsonAsync<JobMetrics>($"/jobs/{trained.Id}/metrics", ApiHost.Json))!;
        Assert.Equal(3, metrics.Epochs.Count);

        for (int i = 0; i < 600 && (await restarted.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }
        RankingResponse ranking = (await restarted.GetFromJsonAsync<RankingResponse>("/users/4/ranking?k=5", ApiHost.Json))!;
        Assert.Equal(trained.Id, ranking.ModelJobId);
        Assert.Equal(5, ranking.Items.Count);
        List<ModelView> models = (await restarted.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        Assert.True(Assert.Single(models).Serving);
    }

    [Fact]
    public async Task A_model_activated_by_hand_still_serves_after_a_restart()
    {
        string root = ApiHost.TempFolder();
        string worse;
        await using (var before = new ApiHost(root))
        {
            using HttpClient client = before.CreateClient();
            JobView a = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 1, seed = 3 })).Id, JobState.Succeeded);
            JobView b = await ApiHost.WaitForStateAsync(client, (await ApiHost.PostJobAsync(client, new { epochs = 3, seed = 4 })).Id, JobState.Succeeded);
            worse = a.BestValidation!["NDCG@10"] <= b.BestValidation!["NDCG@10"] ? a.Id : b.Id;
            string better = worse == a.Id ? b.Id : a.Id;
            // A job shows succeeded just before it is offered to the registry: wait for that automatic switch, so it
            // cannot land after (and undo) the activation below.
            for (int i = 0; i < 600 && (await client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!.SingleOrDefault(m => m.Serving)?.JobId != better; i++)
            {
                await Task.Delay(100);
            }
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/models/{worse}/activate", null)).StatusCode);
        }

        await using var after = new ApiHost(root);
        using HttpClient restarted = after.CreateClient();
        for (int i = 0; i < 600 && (await restarted.GetAsync("/health/ready")).StatusCode != HttpStatusCode.OK; i++)
        {
            await Task.Delay(100);
        }
        RankingResponse ranking = (await restarted.GetFromJsonAsync<RankingResponse>("/users/2/ranking", ApiHost.Json))!;
        Assert.Equal(worse, ranking.ModelJobId);
        List<ModelView> models = (await restarted.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        Assert.Equal(worse, Assert.Single(models, m => m.Serving).JobId);
    }
}
