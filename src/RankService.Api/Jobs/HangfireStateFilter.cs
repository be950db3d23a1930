using Hangfire.Common;
using Hangfire.States;
using Hangfire.Storage;

namespace RankService.Api.Jobs;

/// <summary>
/// Keeps a job's record in step with Hangfire whatever changes the Hangfire job: deleted (the dashboard's Delete, or
/// any client) cancels a queued job and asks a running one to stop, with a reason saying so; failed (an exception the
/// job did not record, such as one before it could start) fails the record. Runs in the process that changes the
/// state, inside Hangfire's state change; the record then decides through <see cref="JobLifecycle"/>, so a job
/// already finished (our own cancel deletes the Hangfire job after cancelling the record) is left as it is.
/// </summary>
public sealed class HangfireStateFilter(JobStore store, JobLifecycle lifecycle, JobCancellations cancellations, SearchCoordinator searches,
    ILogger<HangfireStateFilter> logger)
    : IApplyStateFilter
{
    public void OnStateApplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.BackgroundJob.Job is not { } job || job.Type != typeof(TrainingJob) || job.Args.Count == 0
            || job.Args[0] is not string jobId || !JobStore.IsValidId(jobId))
        {
            return;
        }
        try
        {
            switch (context.NewState)
            {
                case DeletedState:
                    JobRecord? after = store.Update(jobId, r => lifecycle.CancelOrRequest(r, JobLifecycle.DeletedInDashboardMessage));
                    if (after is { State: JobState.Running, CancelRequested: true })
                    {
                        // At once on this node; a worker on another node sees the shared record within a second.
                        cancellations.Cancel(jobId);
                    }
                    logger.LogInformation("Job {JobId}'s Hangfire job {HangfireJobId} was deleted; the job is {State}",
                        jobId, context.BackgroundJob.Id, after?.State.ToString().ToLowerInvariant() ?? "unknown");
                    break;
                case FailedState failed:
                    string message = failed.Exception is { } e ? $"failed in Hangfire: {e.Message}" : "failed in Hangfire";
                    store.Update(jobId, r => lifecycle.Fail(r, message));
                    break;
            }
            // A search's trial that finished this way may be the last one the search waits for.
            if (context.NewState is DeletedState or FailedState && store.Find(jobId) is { ParentId: { } parentId, State: var state } && state.IsFinished())
            {
                searches.TrialFinished(parentId);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Hangfire's own state change goes ahead; the record stays as it was and a restart marks it interrupted.
            logger.LogError(e, "Job {JobId}: its record cannot follow Hangfire's state {State}: {Error}", jobId, context.NewState.Name, e.Message);
        }
    }

    public void OnStateUnapplied(ApplyStateContext context, IWriteOnlyTransaction transaction)
    {
    }

    /// <summary>
    /// This host's Hangfire filters: the global ones plus this filter, so each host (and each test host in one
    /// process) updates its own job store rather than the first host's.
    /// </summary>
    public sealed class Provider(HangfireStateFilter filter) : IJobFilterProvider
    {
        private readonly JobFilter _filter = new(filter, JobFilterScope.Global, order: null);

        public IEnumerable<JobFilter> GetFilters(Job job) => JobFilterProviders.Providers.GetFilters(job).Append(_filter);
    }
}
