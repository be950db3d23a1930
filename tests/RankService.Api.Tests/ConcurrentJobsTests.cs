using RankService.Ranking.Checkpoints;

namespace RankService.Api.Tests;

/// <summary>
/// Two training workers in one service: jobs running at the same time each give the model they give alone (each run
/// owns its random generators; libtorch's global one is shared by the whole process), and both serve.
/// </summary>
public sealed class ConcurrentJobsTests() : HostPerTest(new Dictionary<string, string?> { ["Jobs:WorkerCount"] = "2" })
{

    [Fact]
    public async Task Two_workers_train_two_jobs_at_once_and_each_gives_its_solo_weights_and_serves()
    {
        // Different random draws: towers with dropout, and the MLP head with dropout and sampled pairs.
        object towers = new { epochs = 8, seed = 5, hiddenSizes = new[] { 24, 16 }, dropout = 0.3 };
        object head = new { epochs = 8, seed = 9, head = "concat-mlp", hiddenSizes = new[] { 24 }, dropout = 0.2, loss = "pairwise-logistic" };
        JobView a = await ApiHost.PostJobAsync(Client, towers);
        JobView b = await ApiHost.PostJobAsync(Client, head);

        await WaitUntilBothRunAsync(a.Id, b.Id);
        JobView togetherA = await ApiHost.WaitForStateAsync(Client, a.Id, JobState.Succeeded);
        JobView togetherB = await ApiHost.WaitForStateAsync(Client, b.Id, JobState.Succeeded);
        Assert.True(togetherA.StartedAt < togetherB.FinishedAt && togetherB.StartedAt < togetherA.FinishedAt, "the two jobs overlapped");

        // The same options again, one job at a time.
        JobView soloA = await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, towers)).Id, JobState.Succeeded);
        JobView soloB = await ApiHost.WaitForStateAsync(Client, (await ApiHost.PostJobAsync(Client, head)).Id, JobState.Succeeded);
        Assert.True(soloA.FinishedAt <= soloB.StartedAt, "the solo jobs ran one after the other");

        Assert.Equal(WeightsSha256(soloA), WeightsSha256(togetherA));
        Assert.Equal(WeightsSha256(soloB), WeightsSha256(togetherB));
        Assert.NotEqual(WeightsSha256(togetherA), WeightsSha256(togetherB));

        foreach (string id in new[] { a.Id, b.Id })
        {
            Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync(new Uri($"/models/{id}/activate", UriKind.Relative), null)).StatusCode);
            HttpResponseMessage response = await Client.GetAsync(new Uri("/users/1/ranking?k=5", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            RankingResponse ranking = (await response.Content.ReadFromJsonAsync<RankingResponse>(ApiHost.Json))!;
            Assert.Equal(id, ranking.ModelJobId);
            Assert.Equal(5, ranking.Items.Count);
        }
    }

    /// <summary>Polls both records until one poll sees both running; fails if either finishes before that.</summary>
    private async Task WaitUntilBothRunAsync(string first, string second)
    {
        for (int attempt = 0; attempt < 30_000; attempt++)
        {
            JobView a = await ApiHost.GetJobAsync(Client, first);
            JobView b = await ApiHost.GetJobAsync(Client, second);
            if (a.State == JobState.Running && b.State == JobState.Running)
            {
                return;
            }
            Assert.False(a.State.IsFinished() || b.State.IsFinished(), $"a job finished ({a.State}, {b.State}) before both were running at once");
            await Task.Delay(10);
        }
        Assert.Fail("The two jobs were never seen running at once.");
    }

    private string WeightsSha256(JobView job) =>
        CheckpointStore.ReadVerified(Path.Combine(Host.ArtifactsRoot, "jobs", job.Id, job.Checkpoint!)).Manifest.WeightsSha256;
}
