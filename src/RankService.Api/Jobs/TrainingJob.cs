using Hangfire;
using Microsoft.Extensions.Options;
using RankService.Api.Metrics;
using RankService.Api.Options;
using RankService.Api.Serving;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Training;
using Serilog.Context;

namespace RankService.Api.Jobs;

/// <summary>
/// The Hangfire job that trains one model: runs on the training queue, synchronously on the worker thread, never
/// retried. Progress goes to the job's status record and metrics file after every epoch; a finished model goes to
/// the <see cref="PromotionGuard"/>, which serves it through the <see cref="ModelRegistry"/> when it is promoted (on
/// an api node, <see cref="ModelWatcher"/> finds it). Every log line it writes carries its <c>JobId</c>.
/// With shared storage (PostgreSql) a job whose worker died is run again by Hangfire: it finds its record still
/// running and the trainer continues after the last saved epoch; a job stopped by shutdown goes back to queued and is
/// requeued for the next worker.
/// </summary>
public sealed class TrainingJob(
    JobStore store,
    JobCancellations cancellations,
    IDatasetProvider datasets,
    PromotionGuard promotion,
    SearchCoordinator searches,
    AnnIndexing ann,
    JobLifecycle lifecycle,
    IOptions<JobsOptions> jobsOptions,
    IOptions<ServingOptions> servingOptions,
    ServiceMetrics metrics,
    ILogger<TrainingJob> logger)
{
    [Queue(JobsOptions.TrainingQueue)]
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("Train {0}")]
    public void Run(string jobId, CancellationToken cancellationToken)
    {
        string? parentId = store.Find(jobId)?.ParentId;
        try
        {
            Train(jobId, cancellationToken);
        }
        finally
        {
            // A search's trial: the last one to finish concludes the search.
            if (parentId is not null)
            {
                searches.TrialFinished(parentId);
            }
        }
    }

    private void Train(string jobId, CancellationToken cancellationToken)
    {
        using IDisposable _ = LogContext.PushProperty("JobId", jobId);
        using JobCancellations.Registration cancellation = cancellations.Register(jobId, cancellationToken);
        // Running means an earlier run died (shared storage hands the job out again): carry on from its state.
        JobRecord? record = store.Update(jobId, lifecycle.Start);
        if (record is null || record.State != JobState.Running || record.CancelRequested)
        {
            logger.LogInformation("Job {JobId} is {State}; not running it", jobId, record?.State.ToString() ?? "unknown");
            return;
        }
        if (record.ParentId is not null)
        {
            searches.TrialStarted(record.ParentId);
        }
        // Another node's DELETE /jobs/{id} only reaches this process through the shared record.
        using Timer? cancelWatch = store.Shared
            ? new Timer(_ => WatchCancel(jobId), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))
            : null;

        try
        {
            logger.LogInformation("Job {JobId} started: data set {Dataset}, loss {Loss}, {Epochs} epochs", jobId, record.Dataset, record.Options.Loss.Wire(), record.Options.Epochs);
            RatingDataset data = datasets.Load(record.Dataset, record.Options, cancellation.Token);
            logger.LogInformation("Job {JobId} loaded {Dataset}: {Users} users, {Items} items, {Ratings} ratings",
                jobId, data.Name, data.UserCount, data.ItemCount, data.Ratings.Length);
            cancellation.Token.ThrowIfCancellationRequested();
            if (record.Blend == EaseBlend.Kind && data.ItemCount > servingOptions.Value.MaxBlendItems)
            {
                throw new InvalidOperationException(
                    $"blend ease serves catalogues of up to {servingOptions.Value.MaxBlendItems} items (Serving:MaxBlendItems); {record.Dataset} has {data.ItemCount}.");
            }

            TrainingOptions options = record.Options with { Threads = record.Options.Threads > 0 ? record.Options.Threads : jobsOptions.Value.TrainingThreads };
            string folder = store.Folder(jobId);
            bool first = true;
            var progress = new SynchronousProgress<EpochReport>(report =>
            {
                OnEpoch(jobId, folder, report, first);
                metrics.EpochFinished(record.Dataset, report);
                first = false;
            });
            var trainer = new Trainer(options)
            {
                Log = message => logger.LogWarning("Job {JobId}: {Message}", jobId, message),
                // A job going back to the queue is evaluated by the run that finishes it; shutdown should not wait.
                SkipEvaluationWhenCancelled = () => GoesBackToQueue(jobId, cancellationToken),
            };
            TrainingResult result = trainer.Train(data, folder, progress, cancellation.Token);
            if (result.Cancelled && GoesBackToQueue(jobId, cancellationToken))
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
            Finish(jobId, folder, result, data);
        }
        catch (OperationCanceledException) when (cancellation.Token.IsCancellationRequested)
        {
            if (GoesBackToQueue(jobId, cancellationToken))
            {
                // Rethrown on shutdown, Hangfire leaves the job in its queue for the next worker.
                store.Update(jobId, lifecycle.Requeue);
                logger.LogWarning("Job {JobId} stopped by shutdown; its state after the last finished epoch is saved and it goes back to the queue", jobId);
                throw;
            }
            Finish(jobId, store.Folder(jobId), result: null, data: null);
        }
        catch (Exception e)
        {
            // A write the disk refused (full, read-only, no permission) fails the job with the OS's own message.
            string message = e is MovieLensDataException or CheckpointException or ArgumentException or InvalidOperationException
                or IOException or UnauthorizedAccessException
                ? e.Message
                : $"{e.GetType().Name}: {e.Message}";
            try
            {
                store.Update(jobId, r => lifecycle.Fail(r, message));
            }
            catch (Exception write) when (write is IOException or UnauthorizedAccessException)
            {
                // The failure record itself cannot be written: this process still answers why the job failed.
                store.UpdateInMemory(jobId, r => lifecycle.Fail(r, message));
                logger.LogError(write, "Job {JobId}: its failed status cannot be written: {Error}", jobId, write.Message);
            }
            logger.LogError(e, "Job {JobId} failed: {Error}", jobId, message);
            throw;
        }
    }

    /// <summary>
    /// With shared storage, a stop that is not the user's (worker shutdown, SIGTERM) sends the job back to the queue,
    /// where the next worker continues it after its last saved epoch; with in-memory storage it fails as interrupted.
    /// </summary>
    private bool GoesBackToQueue(string jobId, CancellationToken hangfireToken) =>
        store.Shared && hangfireToken.IsCancellationRequested && store.Find(jobId)?.CancelRequested != true;

    private void WatchCancel(string jobId)
    {
        try
        {
            if (store.Find(jobId)?.CancelRequested == true)
            {
                cancellations.Cancel(jobId);
            }
        }
        catch (IOException e)
        {
            logger.LogWarning(e, "Job {JobId}: cannot read its status record", jobId);
        }
    }

    private void OnEpoch(string jobId, string folder, EpochReport report, bool firstOfRun)
    {
        // A resumed run's first report follows its last saved epoch: drop anything recorded after that.
        double earlierSeconds = firstOfRun ? store.TruncateMetrics(jobId, report.Epoch).Sum(r => r.EpochSeconds) : double.NaN;
        store.AppendMetrics(jobId, report);
        store.Update(jobId, r => lifecycle.Progress(r, report, firstOfRun, earlierSeconds, BestManifest(folder)));
        logger.LogInformation("Job {JobId} epoch {Epoch}/{TotalEpochs}: loss {Loss:F4}, validation NDCG@10 {Ndcg:F4}{Best} ({Seconds:F1} s)",
            jobId, report.Epoch, report.TotalEpochs, report.TrainLoss,
            report.Validation.GetValueOrDefault(Trainer.SelectionMetric), report.IsBest ? " (best)" : "", report.EpochSeconds);
    }

    private void Finish(string jobId, string folder, TrainingResult? result, RatingDataset? data)
    {
        JobRecord? current = store.Find(jobId);
        bool cancelled = result is null || result.Cancelled;
        string best = BestManifest(folder);
        PromotionDecision? decision = null;
        // Stopped by the user (or the Hangfire dashboard) it is cancelled; stopped by anything else, interrupted.
        JobRecord Apply(JobRecord r) =>
            !cancelled ? lifecycle.Succeed(r, result!, best, decision)
            : r.CancelRequested ? lifecycle.Cancel(r, result: result, bestCheckpoint: best)
            : lifecycle.Fail(r, JobLifecycle.ShutdownMessage, result, best);
        if (current is not null && !cancelled)
        {
            // The index (and its recall) is ready before the record says "succeeded", as the model is.
            ann.BuildForCheckpoint(jobId, store.CheckpointPath(Apply(current)), CancellationToken.None);
        }
        if (current is not null && !cancelled && data is not null && result!.BestEpoch > 0)
        {
            if (current.Blend == EaseBlend.Kind)
            {
                BlendManifest blend = EaseBlend.FitAndSave(Path.Combine(folder, best), data, current.Options);
                logger.LogInformation("Job {JobId} blended with EASE (lambda {Lambda}): weight {Weight}, validation NDCG@10 {Blend:F4} (two-tower {Tower:F4}, EASE {Ease:F4})",
                    jobId, blend.EaseLambda, blend.Weight, blend.Blended.Validation[Trainer.SelectionMetric],
                    blend.TwoTower.Validation[Trainer.SelectionMetric], blend.Ease.Validation[Trainer.SelectionMetric]);
            }
            // Swapped in (when promoted) before the record says "succeeded": a client that sees the state never gets the old model.
            decision = promotion.Promote(Apply(current), data);
        }
        JobRecord? record = store.Update(jobId, Apply);
        if (record is null)
        {
            return;
        }
        logger.LogInformation("Job {JobId} {State} after {Epochs} epochs; best epoch {BestEpoch}, validation NDCG@10 {Ndcg:F4}",
            jobId, record.State.ToString().ToLowerInvariant(), record.Epoch, record.BestEpoch, record.SelectionScore);
    }

    private static string BestManifest(string folder) =>
        Path.GetRelativePath(folder, CheckpointStore.ManifestPath(Path.Combine(folder, "checkpoints"), "best"));

    /// <summary>Reports on the trainer's thread (Progress&lt;T&gt; would post to the thread pool and reorder epochs).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
