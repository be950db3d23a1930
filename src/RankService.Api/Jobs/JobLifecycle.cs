using System.Collections.Frozen;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>Every change a job's state may go through; <see cref="JobLifecycle.Transitions"/> says from where to where.</summary>
public enum JobTransition
{
    /// <summary>Hangfire took the job: its Hangfire id is recorded.</summary>
    Enqueue,

    /// <summary>A worker begins (or, with shared storage, continues a dead worker's) run.</summary>
    Start,

    /// <summary>An epoch finished.</summary>
    Progress,

    Succeed,
    Fail,

    /// <summary>A running job is asked to stop; it stops within one batch and is then <see cref="Cancel"/>led.</summary>
    RequestCancel,

    Cancel,

    /// <summary>Shutdown stopped a running job that shared storage hands to the next worker.</summary>
    Requeue,

    /// <summary>A process found the job left queued or running by an earlier one (in-memory storage).</summary>
    Interrupt,

    /// <summary>A search's trials have all finished: it succeeds with the best one.</summary>
    Conclude,
}

/// <summary>
/// The one home of a job's state changes: each method takes the current record and returns the next one, stamped
/// from the injected clock. A transition the table does not allow returns the record unchanged (the same instance, so
/// <see cref="JobStore.Update"/> writes nothing): a cancelled job never becomes succeeded, a finished job never runs
/// again, only a running job goes back to the queue, and a job asked to stop neither starts nor goes back to the queue.
/// </summary>
public sealed class JobLifecycle(TimeProvider clock)
{
    public const string InterruptedMessage = "interrupted: the service stopped while the job was queued or running";
    public const string ShutdownMessage = "interrupted: the service shut down while the job ran";
    public const string DeletedInDashboardMessage = "cancelled: the job was deleted in the Hangfire dashboard";

    /// <summary>The allowed transitions, written once: the states each may start from and the state it leads to.</summary>
    public static readonly FrozenDictionary<JobTransition, (JobState[] From, JobState To)> Transitions =
        new Dictionary<JobTransition, (JobState[] From, JobState To)>
        {
            [JobTransition.Enqueue] = ([JobState.Queued], JobState.Queued),
            // From running too: with shared storage Hangfire hands a dead worker's job to the next worker.
            [JobTransition.Start] = ([JobState.Queued, JobState.Running], JobState.Running),
            [JobTransition.Progress] = ([JobState.Running], JobState.Running),
            [JobTransition.Succeed] = ([JobState.Running], JobState.Succeeded),
            [JobTransition.Fail] = ([JobState.Queued, JobState.Running], JobState.Failed),
            [JobTransition.RequestCancel] = ([JobState.Running], JobState.Running),
            [JobTransition.Cancel] = ([JobState.Queued, JobState.Running], JobState.Cancelled),
            [JobTransition.Requeue] = ([JobState.Running], JobState.Queued),
            [JobTransition.Interrupt] = ([JobState.Queued, JobState.Running], JobState.Failed),
            // From queued too: a trial's start may not have reached the parent's record (a write the disk refused).
            [JobTransition.Conclude] = ([JobState.Queued, JobState.Running], JobState.Succeeded),
        }.ToFrozenDictionary();

    /// <summary>Whether <paramref name="transition"/> may happen to a record in <paramref name="record"/>'s state.</summary>
    public static bool Allows(JobRecord record, JobTransition transition)
    {
        ArgumentNullException.ThrowIfNull(record);
        // A job asked to stop ends; it neither starts again nor goes back to the queue.
        if (record.CancelRequested && transition is JobTransition.Start or JobTransition.Requeue)
        {
            return false;
        }
        return Transitions[transition].From.Contains(record.State);
    }

    /// <summary>A new job, queued now.</summary>
    public JobRecord Queue(string id, string dataset, TrainingOptions options) => new()
    {
        Id = id,
        Dataset = dataset,
        Options = options,
        CreatedAt = clock.GetUtcNow(),
        State = JobState.Queued,
    };

    public JobRecord Enqueue(JobRecord record, string hangfireJobId) =>
        Apply(record, JobTransition.Enqueue, (r, _) => r with { HangfireJobId = hangfireJobId });

    /// <summary>Running from now; a run continued after a dead worker keeps its first start time.</summary>
    public JobRecord Start(JobRecord record) =>
        Apply(record, JobTransition.Start, (r, now) => r with { StartedAt = r.StartedAt ?? now });

    /// <summary>
    /// Records a finished epoch. The first report of a run follows its last saved epoch: <paramref name="earlierSeconds"/>
    /// are the seconds of the epochs kept before it, and the run is recorded as resumed after the epoch before it.
    /// </summary>
    public JobRecord Progress(JobRecord record, EpochReport report, bool firstOfRun, double earlierSeconds, string bestCheckpoint)
    {
        ArgumentNullException.ThrowIfNull(report);
        return Apply(record, JobTransition.Progress, (r, _) => r with
        {
            Epoch = report.Epoch,
            EpochSeconds = (firstOfRun ? earlierSeconds : r.EpochSeconds) + report.EpochSeconds,
            ResumedAfterEpoch = firstOfRun ? report.Epoch - 1 : r.ResumedAfterEpoch,
            BestEpoch = report.IsBest ? report.Epoch : r.BestEpoch,
            BestValidation = report.IsBest ? report.Validation : r.BestValidation,
            Checkpoint = report.IsBest ? bestCheckpoint : r.Checkpoint,
        });
    }

    /// <summary>
    /// Finished training: its result and best checkpoint (relative to the job folder) are recorded, and what the
    /// promotion guard decided.
    /// </summary>
    public JobRecord Succeed(JobRecord record, TrainingResult result, string? bestCheckpoint, PromotionDecision? promotion = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        return Apply(record, JobTransition.Succeed, (r, now) => Finished(r, now, error: null, result, bestCheckpoint) with { Promotion = promotion ?? r.Promotion });
    }

    /// <summary>A search whose trials have all finished: succeeded with <paramref name="best"/>'s metrics.</summary>
    public JobRecord Conclude(JobRecord record, JobRecord best)
    {
        ArgumentNullException.ThrowIfNull(best);
        return Apply(record, JobTransition.Conclude, (r, now) => r with
        {
            FinishedAt = now,
            BestTrial = best.Id,
            BestEpoch = best.BestEpoch,
            BestValidation = best.BestValidation,
            Test = best.Test,
            PopularityValidation = best.PopularityValidation,
            PopularityTest = best.PopularityTest,
        });
    }

    /// <summary>Failed with <paramref name="error"/>; a stopped run's result so far is kept with it.</summary>
    public JobRecord Fail(JobRecord record, string error, TrainingResult? result = null, string? bestCheckpoint = null) =>
        Apply(record, JobTransition.Fail, (r, now) => Finished(r, now, error, result, bestCheckpoint));

    /// <summary>
    /// Asks a running job to stop; <paramref name="reason"/> (when it is not the user's DELETE /jobs/{id}) becomes
    /// the cancelled job's error.
    /// </summary>
    public JobRecord RequestCancel(JobRecord record, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.CancelRequested && (reason is null || record.CancelReason is not null))
        {
            return record;
        }
        return Apply(record, JobTransition.RequestCancel, (r, _) => r with { CancelRequested = true, CancelReason = r.CancelReason ?? reason });
    }

    /// <summary>Cancelled now: a queued job at once, a running one once it stopped (with its result so far).</summary>
    public JobRecord Cancel(JobRecord record, string? reason = null, TrainingResult? result = null, string? bestCheckpoint = null) =>
        Apply(record, JobTransition.Cancel, (r, now) => Finished(r, now, reason ?? r.CancelReason, result, bestCheckpoint) with
        {
            CancelRequested = true,
            CancelReason = r.CancelReason ?? reason,
        });

    /// <summary>What a cancel does: a queued job is cancelled at once, a running one asked to stop; a finished one is left.</summary>
    public JobRecord CancelOrRequest(JobRecord record, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.State == JobState.Queued ? Cancel(record, reason) : RequestCancel(record, reason);
    }

    /// <summary>Back to the queue after a shutdown, for the next worker to continue after its last saved epoch.</summary>
    public JobRecord Requeue(JobRecord record) => Apply(record, JobTransition.Requeue, (r, _) => r);

    /// <summary>Failed as interrupted: an earlier process left it queued or running.</summary>
    public JobRecord Interrupt(JobRecord record) =>
        Apply(record, JobTransition.Interrupt, (r, now) => Finished(r, now, InterruptedMessage, result: null, bestCheckpoint: null));

    private JobRecord Apply(JobRecord record, JobTransition transition, Func<JobRecord, DateTimeOffset, JobRecord> change)
    {
        ArgumentNullException.ThrowIfNull(record);
        return Allows(record, transition)
            ? change(record, clock.GetUtcNow()) with { State = Transitions[transition].To }
            : record;
    }

    private static JobRecord Finished(JobRecord r, DateTimeOffset now, string? error, TrainingResult? result, string? bestCheckpoint)
    {
        bool trained = result is { BestEpoch: > 0 };
        return r with
        {
            Error = error,
            FinishedAt = now,
            BestEpoch = result?.BestEpoch ?? r.BestEpoch,
            BestValidation = trained ? result!.BestValidation : r.BestValidation,
            Test = trained ? result!.Test : r.Test,
            PopularityValidation = result?.PopularityValidation ?? r.PopularityValidation,
            PopularityTest = result?.PopularityTest ?? r.PopularityTest,
            Checkpoint = trained ? bestCheckpoint ?? r.Checkpoint : r.Checkpoint,
            StoppedEarly = result?.StoppedEarly ?? r.StoppedEarly,
        };
    }
}
