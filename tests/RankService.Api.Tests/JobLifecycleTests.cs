using RankService.Ranking.Losses;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Api.Tests;

public sealed class JobLifecycleTests : HostPerTest
{

    [Fact]
    public async Task Cancelling_stops_a_running_job_with_its_best_checkpoint_and_a_queued_one_before_it_starts()
    {
        JobView running = await ApiHost.PostJobAsync(Client, new { epochs = 10_000, patience = 0 });
        JobView queued = await ApiHost.PostJobAsync(Client, new { epochs = 3 });
        JobView midway = await ApiHost.WaitForAsync(Client, running.Id, j => j.State == JobState.Running && j.Progress.Epoch >= 1);
        Assert.NotNull(midway.Progress.EstimatedRemainingSeconds);
        Assert.InRange(midway.Progress.Percent, 0.0, 1.0);
        Assert.NotNull(midway.BestValidation);
        JobMetrics live = (await Client.GetFromJsonAsync<JobMetrics>($"/jobs/{running.Id}/metrics", ApiHost.Json))!;
        Assert.Equal(JobState.Running, live.State);
        Assert.NotEmpty(live.Epochs);
        Assert.Null(live.Test);

        HttpResponseMessage cancelQueued = await Client.DeleteAsync($"/jobs/{queued.Id}");
        Assert.Equal(HttpStatusCode.OK, cancelQueued.StatusCode);
        Assert.Equal(JobState.Cancelled, (await cancelQueued.Content.ReadFromJsonAsync<JobView>(ApiHost.Json))!.State);

        HttpResponseMessage cancelRunning = await Client.DeleteAsync($"/jobs/{running.Id}");
        Assert.Equal(HttpStatusCode.Accepted, cancelRunning.StatusCode);
        Assert.True((await cancelRunning.Content.ReadFromJsonAsync<JobView>(ApiHost.Json))!.CancelRequested);

        JobView stopped = await ApiHost.WaitForStateAsync(Client, running.Id, JobState.Cancelled);
        Assert.InRange(stopped.Progress.Epoch, 1, 9_999);
        Assert.InRange(stopped.BestEpoch, 1, stopped.Progress.Epoch);
        Assert.Equal("checkpoints/best.manifest.json", stopped.Checkpoint);
        Assert.True(File.Exists(Path.Combine(Host.ArtifactsRoot, "jobs", running.Id, stopped.Checkpoint!)));
        Assert.Null(stopped.Error);
        JobMetrics metrics = (await Client.GetFromJsonAsync<JobMetrics>($"/jobs/{running.Id}/metrics", ApiHost.Json))!;
        Assert.Equal(stopped.Progress.Epoch, metrics.Epochs.Count);

        JobView neverRan = await ApiHost.GetJobAsync(Client, queued.Id);
        Assert.Equal(JobState.Cancelled, neverRan.State);
        Assert.Null(neverRan.StartedAt);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.DeleteAsync($"/jobs/{running.Id}")).StatusCode);

        // A cancelled job with a checkpoint is a model that can be served by hand, but is not chosen automatically.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await Client.GetAsync("/users/1/ranking")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync($"/models/{running.Id}/activate", null)).StatusCode);
        RankingResponse ranking = (await Client.GetFromJsonAsync<RankingResponse>("/users/1/ranking", ApiHost.Json))!;
        Assert.Equal(running.Id, ranking.ModelJobId);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.PostAsync($"/models/{queued.Id}/activate", null)).StatusCode);
    }

    [Fact]
    public async Task Two_jobs_queued_together_run_one_after_the_other_and_the_better_one_serves()
    {
        JobView first = await ApiHost.PostJobAsync(Client, new { epochs = 2, seed = 1 });
        JobView second = await ApiHost.PostJobAsync(Client, new { epochs = 3, seed = 2, embeddingDim = 24 });
        Assert.Equal(JobState.Queued, second.State);

        JobView a = await ApiHost.WaitForStateAsync(Client, first.Id, JobState.Succeeded);
        JobView b = await ApiHost.WaitForStateAsync(Client, second.Id, JobState.Succeeded);
        Assert.True(b.StartedAt >= a.FinishedAt, "one training worker runs one job at a time");
        Assert.Equal(24, b.Options.EmbeddingDim);
        Assert.Equal(16, a.Options.EmbeddingDim);

        // The job shows succeeded just before the registry offers its model, so wait (briefly) for the swap.
        List<ModelView> models = (await Client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        for (int i = 0; i < 100 && !models.MaxBy(m => m.Validation!["NDCG@10"])!.Serving; i++)
        {
            await Task.Delay(100);
            models = (await Client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        }
        Assert.Equal([second.Id, first.Id], models.Select(m => m.JobId));
        ModelView best = models.MaxBy(m => m.Validation!["NDCG@10"])!;
        Assert.Equal(best.JobId, Assert.Single(models, m => m.Serving).JobId);
        RankingResponse ranking = (await Client.GetFromJsonAsync<RankingResponse>("/users/3/ranking", ApiHost.Json))!;
        Assert.Equal(best.JobId, ranking.ModelJobId);

        JobPage page = (await Client.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!;
        Assert.Equal([second.Id, first.Id], page.Items.Select(j => j.Id));

        // Switching models while rankings are in flight: every request is answered by one model or the other.
        using var done = new CancellationTokenSource();
        Task<List<(HttpStatusCode Status, string? Model)>>[] readers = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            var answers = new List<(HttpStatusCode, string?)>();
            while (!done.IsCancellationRequested || answers.Count < 5)
            {
                HttpResponseMessage response = await Client.GetAsync("/users/3/ranking?k=5");
                RankingResponse? body = response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<RankingResponse>(ApiHost.Json) : null;
                answers.Add((response.StatusCode, body?.ModelJobId));
            }
            return answers;
        })).ToArray();
        for (int swap = 0; swap < 10; swap++)
        {
            string id = swap % 2 == 0 ? first.Id : second.Id;
            Assert.Equal(HttpStatusCode.OK, (await Client.PostAsync($"/models/{id}/activate", null)).StatusCode);
        }
        await done.CancelAsync();
        List<(HttpStatusCode Status, string? Model)> all = (await Task.WhenAll(readers)).SelectMany(a => a).ToList();
        Assert.All(all, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.All(all, a => Assert.Contains(a.Model, new[] { first.Id, second.Id }));
        RankingResponse last = (await Client.GetFromJsonAsync<RankingResponse>("/users/3/ranking", ApiHost.Json))!;
        Assert.Equal(second.Id, last.ModelJobId);
    }

    [Fact]
    public async Task The_first_job_serves_its_model_as_soon_as_it_reads_succeeded()
    {
        JobView job = await ApiHost.PostJobAsync(Client, new { epochs = 2 });
        await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Succeeded);

        // No waiting for a swap: the model goes into the registry before the record says "succeeded".
        HttpResponseMessage response = await Client.GetAsync(new Uri("/users/1/ranking?k=3", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        RankingResponse? ranking = await response.Content.ReadFromJsonAsync<RankingResponse>(ApiHost.Json);
        Assert.Equal(job.Id, ranking!.ModelJobId);
        Assert.Equal(3, ranking.Items.Count);
    }

    [Fact]
    public async Task A_job_can_train_under_the_recbole_protocol_and_reports_recall_and_precision()
    {
        JobView job = await ApiHost.PostJobAsync(Client, new { epochs = 2, protocol = "recbole", splitSeed = 5 });
        JobView done = await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Succeeded);
        Assert.Equal(SplitProtocol.RecBole, done.Options.Protocol);
        Assert.Equal(5, done.Options.SplitSeed);
        Assert.InRange(done.Test!["Recall@10"], 0, 1);
        Assert.InRange(done.Test!["Precision@10"], 0, 1);
    }

    [Fact]
    public async Task A_job_trains_with_any_loss_and_its_options_as_posted()
    {
        JobView job = await ApiHost.PostJobAsync(Client, new
        {
            epochs = 1,
            loss = "hybrid",
            hybridFirst = "softmax",
            hybridSecond = "triplet",
            softmaxSamples = 50,
            softmaxReduction = "sum",
            gradientClipNorm = 2.5,
            embeddingUpdates = "dense",
            tripletMining = "hard",
            tripletForm = "distance",
            margin = 0.5,
        });
        JobView done = await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Succeeded);
        Assert.Equal(LossKind.Softmax, done.Options.HybridFirst);
        Assert.Equal(LossKind.Triplet, done.Options.HybridSecond);
        Assert.Equal(50, done.Options.SoftmaxSamples);
        Assert.Equal(SoftmaxReduction.Sum, done.Options.SoftmaxReduction);
        Assert.Equal(2.5, done.Options.GradientClipNorm);
        Assert.Equal(EmbeddingUpdateMode.Dense, done.Options.EmbeddingUpdates);
        Assert.Equal(TripletMining.Hard, done.Options.TripletMining);
        Assert.Equal(0.5, done.Options.Margin);
        Assert.NotNull(done.Checkpoint);
    }

    [Fact]
    public async Task A_job_whose_data_set_is_missing_fails_with_a_message_saying_where_to_put_it()
    {
        JobView job = await ApiHost.PostJobAsync(Client, new { dataset = "ml-100k" });
        JobView failed = await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Failed);
        Assert.Contains("ml-100k", failed.Error, StringComparison.Ordinal);
        Assert.Contains("Data__Root", failed.Error, StringComparison.Ordinal);
        Assert.Null(failed.Checkpoint);
        Assert.Equal(0, failed.Progress.Epoch);
        Assert.Equal(HttpStatusCode.Conflict, (await Client.PostAsync($"/models/{job.Id}/activate", null)).StatusCode);
    }
}
