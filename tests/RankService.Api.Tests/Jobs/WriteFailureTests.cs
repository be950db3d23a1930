using RankService.Ranking.Checkpoints;

namespace RankService.Api.Tests.Jobs;

/// <summary>
/// A disk that refuses a write (full, read-only) part-way through a job, injected through <see cref="AtomicFile"/>'s
/// fault seam for that job's files only: the job fails with the OS's message, what it wrote before stays valid, and the
/// model already serving keeps serving.
/// </summary>
public sealed class WriteFailureTests() : HostPerTest()
{

    [Fact]
    public async Task A_checkpoint_write_that_fails_fails_the_job_with_the_os_message_its_earlier_checkpoint_still_loads_and_serving_continues()
    {
        JobView serving = await TrainServingModelAsync();
        string checkpoints = $"{Path.DirectorySeparatorChar}checkpoints{Path.DirectorySeparatorChar}";
        JobView failed;
        // Every checkpoint write of the new job after its first epoch was reported fails.
        using (AtomicFile.InjectFault(p => IsOtherJobAfterFirstEpoch(p, serving.Id) && p.Contains(checkpoints, StringComparison.Ordinal) ? DiskFull(p) : null))
        {
            JobView job = await ApiHost.PostJobAsync(Client, new { epochs = 5, patience = 0 });
            failed = await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Failed);
        }

        Assert.StartsWith("No space left on device : '", failed.Error, StringComparison.Ordinal);
        Assert.Contains(checkpoints, failed.Error, StringComparison.Ordinal);
        Assert.Equal(1, failed.BestEpoch);
        Assert.NotNull(failed.FinishedAt);
        // The record on disk says so too.
        JobRecord onDisk = ReadStatus(failed.Id);
        Assert.Equal((JobState.Failed, failed.Error), (onDisk.State, onDisk.Error));
        // The best checkpoint of epoch 1 is intact: it verifies and loads; no temporary file was left beside it.
        string folder = Path.Combine(Host.ArtifactsRoot, "jobs", failed.Id);
        using (LoadedCheckpoint loaded = CheckpointStore.Load(Path.Combine(folder, failed.Checkpoint!)))
        {
            Assert.Equal(1, loaded.Manifest.Epoch);
        }
        Assert.Empty(Directory.GetFiles(folder, "*.tmp", SearchOption.AllDirectories));
        await AssertServesAsync(serving.Id);
    }

    [Fact]
    public async Task A_status_write_that_fails_fails_the_job_with_the_os_message_and_serving_continues()
    {
        JobView serving = await TrainServingModelAsync();
        JobView failed;
        string? jobId = null;
        // The disk refuses the new job's status record from its first epoch on, the failure record included.
        using (AtomicFile.InjectFault(p => IsOtherJobAfterFirstEpoch(p, serving.Id) && Path.GetFileName(p) == "status.json" ? DiskFull(p) : null))
        {
            JobView job = await ApiHost.PostJobAsync(Client, new { epochs = 5, patience = 0 });
            jobId = job.Id;
            failed = await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Failed);
        }

        Assert.StartsWith("No space left on device : '", failed.Error, StringComparison.Ordinal);
        Assert.EndsWith($"{jobId}{Path.DirectorySeparatorChar}status.json'", failed.Error, StringComparison.Ordinal);
        // The file keeps the last record written before the disk filled: running, before its first epoch.
        JobRecord onDisk = ReadStatus(jobId);
        Assert.Equal((JobState.Running, 0), (onDisk.State, onDisk.Epoch));
        await AssertServesAsync(serving.Id);
    }

    private async Task<JobView> TrainServingModelAsync()
    {
        JobView job = await ApiHost.PostJobAsync(Client, new { epochs = 2 });
        JobView done = await ApiHost.WaitForStateAsync(Client, job.Id, JobState.Succeeded);
        await AssertServesAsync(done.Id);
        return done;
    }

    private async Task AssertServesAsync(string jobId)
    {
        RankingResponse ranking = (await Client.GetFromJsonAsync<RankingResponse>("/users/1/ranking", ApiHost.Json))!;
        Assert.Equal(jobId, ranking.ModelJobId);
        Assert.NotEmpty(ranking.Items);
    }

    /// <summary>A file of this host's jobs other than <paramref name="servingId"/> whose first epoch was reported.</summary>
    private bool IsOtherJobAfterFirstEpoch(string path, string servingId)
    {
        string jobs = Path.Combine(Host.ArtifactsRoot, "jobs") + Path.DirectorySeparatorChar;
        if (!path.StartsWith(jobs, StringComparison.Ordinal))
        {
            return false;
        }
        string id = path[jobs.Length..].Split(Path.DirectorySeparatorChar)[0];
        return id != servingId && File.Exists(Path.Combine(jobs, id, "metrics.jsonl"));
    }

    /// <summary>What .NET throws for ENOSPC.</summary>
    private static IOException DiskFull(string path) => new($"No space left on device : '{path}'", 28);

    private JobRecord ReadStatus(string id) =>
        JsonSerializer.Deserialize<JobRecord>(File.ReadAllBytes(Path.Combine(Host.ArtifactsRoot, "jobs", id, "status.json")), JobStore.Json)!;
}
