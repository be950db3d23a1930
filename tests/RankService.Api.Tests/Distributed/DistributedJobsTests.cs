
namespace RankService.Api.Tests.Distributed;

/// <summary>
/// An api process and worker processes on 127.0.0.1 sharing one PostgreSQL job store and one artifacts folder:
/// training happens on the worker, serving on the api node, and a worker that dies or is stopped mid-training hands
/// its job to the next worker, which continues after the last saved epoch.
/// </summary>
public sealed class DistributedJobsTests
{
    [PostgresFact]
    public async Task A_job_posted_to_the_api_node_is_trained_by_the_worker_node_and_then_served_by_the_api_node()
    {
        await using var cluster = new Cluster();
        await using ServiceNode api = ServiceNode.Start("Api", cluster);
        await using ServiceNode worker = ServiceNode.Start("Worker", cluster);
        await Task.WhenAll(api.WaitLiveAsync(), worker.WaitLiveAsync());

        // The worker answers health checks only; the api node has no model yet.
        Assert.Equal(HttpStatusCode.NotFound, (await worker.Client.GetAsync("/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await api.Client.GetAsync("/users/5/ranking")).StatusCode);

        JobView job = await ApiHost.PostJobAsync(api.Client, new { dataset = "synthetic", epochs = 3 });
        JobView done = await ApiHost.WaitForStateAsync(api.Client, job.Id, JobState.Succeeded);
        Assert.Equal(3, done.Progress.Epoch);
        Assert.NotNull(done.Test);

        RankingResponse ranking = await WaitForServedAsync(api, job.Id);
        Assert.Equal(10, ranking.Items.Count);
        Assert.Contains($"Job {job.Id} started", worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain($"Job {job.Id} started", api.Output, StringComparison.Ordinal);
        Assert.Contains("finished on another node", api.Output, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task A_job_cancelled_on_the_api_node_stops_on_the_worker_within_a_batch_and_keeps_its_best_checkpoint()
    {
        await using var cluster = new Cluster();
        await using ServiceNode api = ServiceNode.Start("Api", cluster);
        await using ServiceNode worker = ServiceNode.Start("Worker", cluster);
        await Task.WhenAll(api.WaitLiveAsync(), worker.WaitLiveAsync());

        JobView job = await ApiHost.PostJobAsync(api.Client, new { dataset = "synthetic", epochs = 200, patience = 0 });
        await ApiHost.WaitForAsync(api.Client, job.Id, j => j.Progress.Epoch >= 1);
        Assert.Equal(HttpStatusCode.Accepted, (await api.Client.DeleteAsync($"/jobs/{job.Id}")).StatusCode);

        JobView cancelled = await ApiHost.WaitForStateAsync(api.Client, job.Id, JobState.Cancelled);
        Assert.InRange(cancelled.Progress.Epoch, 1, 199);
        Assert.NotNull(cancelled.Checkpoint);
        Assert.Null(cancelled.Error);
    }

    [PostgresFact]
    public async Task A_worker_killed_mid_training_is_replaced_and_the_job_continues_from_its_last_epoch_checkpoint()
    {
        await using var cluster = new Cluster();
        await using ServiceNode api = ServiceNode.Start("Api", cluster);
        ServiceNode first = ServiceNode.Start("Worker", cluster);
        await Task.WhenAll(api.WaitLiveAsync(), first.WaitLiveAsync());

        const int epochs = 30;
        JobView job = await ApiHost.PostJobAsync(api.Client, new { dataset = "synthetic", epochs, patience = 0 });
        await ApiHost.WaitForAsync(api.Client, job.Id, j => j.Progress.Epoch >= 3);
        first.Kill();
        await first.DisposeAsync();
        JobView atKill = await ApiHost.GetJobAsync(api.Client, job.Id);
        Assert.Equal(JobState.Running, atKill.State); // nobody marks it interrupted: Hangfire runs it again
        Assert.InRange(atKill.Progress.Epoch, 3, epochs - 1);

        await using ServiceNode second = ServiceNode.Start("Worker", cluster);
        JobView done = await ApiHost.WaitForStateAsync(api.Client, job.Id, JobState.Succeeded);

        await AssertResumedAsync(api, cluster, job.Id, epochs, atKill.Progress.Epoch);
        Assert.Contains("Resuming after epoch", second.Output, StringComparison.Ordinal);
        Assert.Equal(epochs, done.Progress.Epoch);
        await WaitForServedAsync(api, job.Id);
    }

    [PostgresFact]
    public async Task A_worker_stopped_with_sigterm_requeues_its_job_and_the_next_worker_continues_it()
    {
        await using var cluster = new Cluster();
        await using ServiceNode api = ServiceNode.Start("Api", cluster);
        ServiceNode first = ServiceNode.Start("Worker", cluster);
        await Task.WhenAll(api.WaitLiveAsync(), first.WaitLiveAsync());

        // Enough epochs that the job cannot finish while the first worker shuts down (on an idle machine 30 could).
        const int epochs = 300;
        JobView job = await ApiHost.PostJobAsync(api.Client, new { dataset = "synthetic", epochs, patience = 0 });
        await ApiHost.WaitForAsync(api.Client, job.Id, j => j.Progress.Epoch >= 3);
        await first.TerminateAsync();
        string firstOutput = first.Output;
        await first.DisposeAsync();

        JobView stopped = await ApiHost.GetJobAsync(api.Client, job.Id);
        Assert.Equal(JobState.Queued, stopped.State);
        Assert.Null(stopped.Error);
        Assert.Contains("goes back to the queue", firstOutput, StringComparison.Ordinal);

        await using ServiceNode second = ServiceNode.Start("Worker", cluster);
        await ApiHost.WaitForStateAsync(api.Client, job.Id, JobState.Succeeded);
        await AssertResumedAsync(api, cluster, job.Id, epochs, stopped.Progress.Epoch);
    }

    /// <summary>The job ran again after an epoch it had reached, and its history is every epoch exactly once.</summary>
    private static async Task AssertResumedAsync(ServiceNode api, Cluster cluster, string jobId, int epochs, int reachedBeforeStop)
    {
        JobRecord record = JsonSerializer.Deserialize<JobRecord>(await File.ReadAllBytesAsync(cluster.StatusPath(jobId)), JobStore.Json)!;
        // The resume state of an epoch is saved right after its report, so at most the epoch reported last is repeated.
        Assert.InRange(record.ResumedAfterEpoch, Math.Max(1, reachedBeforeStop - 1), epochs - 1);
        JobMetrics metrics = (await api.Client.GetFromJsonAsync<JobMetrics>($"/jobs/{jobId}/metrics", ApiHost.Json))!;
        Assert.Equal(Enumerable.Range(1, epochs), metrics.Epochs.Select(e => e.Epoch));
        Assert.NotNull(metrics.Test);
    }

    /// <summary>Polls the api node until it serves <paramref name="jobId"/>'s model (it watches the shared job records).</summary>
    private static async Task<RankingResponse> WaitForServedAsync(ServiceNode api, string jobId)
    {
        for (int attempt = 0; attempt < 600; attempt++)
        {
            using HttpResponseMessage response = await api.Client.GetAsync("/users/5/ranking?dataset=synthetic");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                RankingResponse ranking = (await response.Content.ReadFromJsonAsync<RankingResponse>(ApiHost.Json))!;
                if (ranking.ModelJobId == jobId)
                {
                    return ranking;
                }
            }
            await Task.Delay(100);
        }
        Assert.Fail($"The api node never served job {jobId}'s model:\n{api.Output}");
        return null!;
    }
}
