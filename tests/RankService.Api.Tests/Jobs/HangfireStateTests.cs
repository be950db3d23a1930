using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.DependencyInjection;

namespace RankService.Api.Tests.Jobs;

/// <summary>Job records follow what happens to their Hangfire jobs (the real in-memory Hangfire of the test host).</summary>
public sealed class HangfireStateTests() : HostPerTest()
{

    private IBackgroundJobClient Hangfire => Host.Services.GetRequiredService<IBackgroundJobClient>();

    private string HangfireId(string jobId) => Host.Services.GetRequiredService<JobStore>().Find(jobId)!.HangfireJobId!;

    private string HangfireState(string jobId) =>
        Host.Services.GetRequiredService<JobStorage>().GetMonitoringApi().JobDetails(HangfireId(jobId)).History.First().StateName;

    [Fact]
    public async Task A_running_job_deleted_in_hangfire_is_asked_to_stop_and_ends_cancelled_saying_it_was_deleted_in_the_dashboard()
    {
        JobView running = await ApiHost.PostJobAsync(Client, new { epochs = 10_000, patience = 0 });
        await ApiHost.WaitForAsync(Client, running.Id, j => j.State == JobState.Running && j.Progress.Epoch >= 1);

        Assert.True(Hangfire.Delete(HangfireId(running.Id)));
        JobView stopped = await ApiHost.WaitForStateAsync(Client, running.Id, JobState.Cancelled);

        Assert.Equal(JobLifecycle.DeletedInDashboardMessage, stopped.Error);
        Assert.True(stopped.CancelRequested);
        Assert.InRange(stopped.BestEpoch, 1, stopped.Progress.Epoch);
        Assert.True(File.Exists(Path.Combine(Host.ArtifactsRoot, "jobs", running.Id, stopped.Checkpoint!)));
        // The job stopping does not bring its Hangfire job back from the deleted state.
        Assert.Equal(DeletedState.StateName, HangfireState(running.Id));
    }

    [Fact]
    public async Task A_queued_job_deleted_in_hangfire_is_cancelled_at_once_and_one_failed_in_hangfire_fails_and_neither_runs()
    {
        JobView blocker = await ApiHost.PostJobAsync(Client, new { epochs = 10_000, patience = 0 });
        JobView deleted = await ApiHost.PostJobAsync(Client, new { epochs = 2 });
        JobView failed = await ApiHost.PostJobAsync(Client, new { epochs = 2 });
        await ApiHost.WaitForStateAsync(Client, blocker.Id, JobState.Running);

        Assert.True(Hangfire.Delete(HangfireId(deleted.Id)));
        Assert.True(Hangfire.ChangeState(HangfireId(failed.Id), new FailedState(new InvalidOperationException("the worker could not load the job")), EnqueuedState.StateName));

        JobView cancelledAtOnce = await ApiHost.GetJobAsync(Client, deleted.Id);
        Assert.Equal((JobState.Cancelled, JobLifecycle.DeletedInDashboardMessage), (cancelledAtOnce.State, cancelledAtOnce.Error));
        Assert.NotNull(cancelledAtOnce.FinishedAt);
        JobView failedAtOnce = await ApiHost.GetJobAsync(Client, failed.Id);
        Assert.Equal((JobState.Failed, "failed in Hangfire: the worker could not load the job"), (failedAtOnce.State, failedAtOnce.Error));

        // The user's own cancel is not a Hangfire deletion: no reason is recorded.
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await Client.DeleteAsync($"/jobs/{blocker.Id}")).StatusCode);
        JobView blockerStopped = await ApiHost.WaitForStateAsync(Client, blocker.Id, JobState.Cancelled);
        Assert.Null(blockerStopped.Error);
        // A job submitted now runs and succeeds, so the worker is free: the two above were never run.
        JobView after = await ApiHost.PostJobAsync(Client, new { epochs = 1 });
        await ApiHost.WaitForStateAsync(Client, after.Id, JobState.Succeeded);
        Assert.Null((await ApiHost.GetJobAsync(Client, deleted.Id)).StartedAt);
        Assert.Null((await ApiHost.GetJobAsync(Client, failed.Id)).StartedAt);
        Assert.Equal(JobState.Failed, (await ApiHost.GetJobAsync(Client, failed.Id)).State);
    }
}
