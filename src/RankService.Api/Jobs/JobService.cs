using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>What the jobs endpoints do: validate and enqueue a request, cancel a job.</summary>
public sealed class JobService(
    JobStore store,
    JobCancellations cancellations,
    IBackgroundJobClient hangfire,
    IOptions<DataOptions> dataOptions,
    IOptionsMonitor<TrainingOptions> trainingDefaults,
    JobLifecycle lifecycle,
    Datasets.ILiveDatasetStore liveDatasets,
    ILogger<JobService> logger)
{
    /// <summary>Longest text a job request field may hold (names of data sets, losses, heads, devices are short).</summary>
    public const int MaxTextLength = 200;

    /// <summary>Validation errors keyed by the request's JSON field names, each with the allowed values.</summary>
    public IDictionary<string, string[]> Validate(JobRequest request, out TrainingOptions options, out string dataset)
    {
        ArgumentNullException.ThrowIfNull(request);
        DataOptions data = dataOptions.Value;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var fieldErrors = new Dictionary<string, string>(StringComparer.Ordinal);
        (TrainingOptions baseline, string? baseDataset) = Baseline(request, errors, fieldErrors);
        dataset = request.Dataset ?? baseDataset ?? data.DefaultDataset;
        TrainingOptions requested = options = request.ToTrainingOptions(baseline, fieldErrors);
        // A live data set (fed through /datasets) is looked up only when the name is a possible one.
        if (!data.IsKnown(dataset) && (Apis.DatasetsApi.NameProblem(dataset, data) is not null
            || liveDatasets.FindAsync(dataset, CancellationToken.None).GetAwaiter().GetResult() is null))
        {
            errors["dataset"] = [$"Unknown data set '{Apis.Echo.Of(dataset)}'. Configured data sets: {string.Join(", ", data.Datasets)}; live data sets: GET /datasets."];
        }
        foreach ((string field, string message) in options.Validate())
        {
            errors[field] = [message];
        }
        // A field that could not be read is reported as such, not as the default's range.
        foreach ((string field, string message) in fieldErrors)
        {
            errors[field] = [message];
        }
        // Every text field, present and future: an overlong one is named without being quoted back in full.
        var texts = new List<(string Field, string? Text)> { ("dataset", request.Dataset), ("fromModel", request.FromModel) };
        texts.AddRange(TrainingOptionCatalog.Options.Where(o => o.Kind == TrainingOptionKind.Text).Select(o => (o.JsonName, o.GetValue(requested) as string)));
        foreach ((string field, string? text) in texts)
        {
            if (text is { Length: > MaxTextLength })
            {
                errors[field] = [$"{field} is at most {MaxTextLength} characters; got {text.Length}."];
            }
        }
        return errors;
    }

    /// <summary>
    /// What the request's fields go over: the configured defaults, a posted <c>training</c> config, or the training
    /// config and data set of model <c>fromModel</c>'s checkpoint manifest.
    /// </summary>
    private (TrainingOptions Options, string? Dataset) Baseline(JobRequest request, Dictionary<string, string[]> errors, Dictionary<string, string> fieldErrors)
    {
        TrainingOptions? posted = request.PostedTraining(fieldErrors);
        if (request.FromModel is not null && posted is not null)
        {
            errors["fromModel"] = ["Give fromModel or training, not both: fromModel takes the model's own training config."];
            return (trainingDefaults.CurrentValue, null);
        }
        if (posted is not null)
        {
            return (posted, null);
        }
        if (request.FromModel is null)
        {
            return (trainingDefaults.CurrentValue, null);
        }
        JobRecord? source = JobStore.IsValidId(request.FromModel) ? store.Find(request.FromModel) : null;
        string? manifestPath = source is null ? null : store.CheckpointPath(source);
        if (source is null || manifestPath is null)
        {
            errors["fromModel"] = [$"'{Apis.Echo.Of(request.FromModel)}' is not a job with a checkpoint; GET /models lists the models."];
            return (trainingDefaults.CurrentValue, null);
        }
        try
        {
            (CheckpointManifest manifest, _) = CheckpointStore.ReadVerified(manifestPath);
            return (manifest.Training, source.Dataset);
        }
        catch (CheckpointException e)
        {
            errors["fromModel"] = [$"Model {request.FromModel}'s checkpoint cannot be read: {e.Message}"];
            return (trainingDefaults.CurrentValue, null);
        }
    }

    /// <summary>Writes the job's folder and enqueues it on the training queue.</summary>
    public JobRecord Submit(string dataset, TrainingOptions options, JobRequest request)
    {
        JobRecord record = lifecycle.Queue(JobStore.NewId(), dataset, options);
        store.Create(record, request);
        string hangfireId = hangfire.Create<TrainingJob>(job => job.Run(record.Id, CancellationToken.None), new EnqueuedState(JobsOptions.TrainingQueue));
        logger.LogInformation("Job {JobId} queued on {Dataset} (Hangfire job {HangfireJobId})", record.Id, dataset, hangfireId);
        return store.Update(record.Id, r => lifecycle.Enqueue(r, hangfireId)) ?? record;
    }

    public enum CancelOutcome
    {
        NotFound,
        AlreadyFinished,
        Cancelled,
        Cancelling,
    }

    /// <summary>A queued job is cancelled at once; a running one is asked to stop and stops within one batch.</summary>
    public (CancelOutcome Outcome, JobRecord? Record) Cancel(string id)
    {
        // The outcome is decided from the state seen inside the store's lock, so of concurrent cancels of a queued job
        // exactly one answers "cancelled" and the others "already finished".
        JobState? seen = null;
        JobRecord? after = store.Update(id, r =>
        {
            seen = r.State;
            return lifecycle.CancelOrRequest(r);
        });
        if (after is null)
        {
            return (CancelOutcome.NotFound, null);
        }
        if (seen is not (JobState.Queued or JobState.Running))
        {
            return (CancelOutcome.AlreadyFinished, after);
        }
        if (after.State == JobState.Cancelled)
        {
            if (after.HangfireJobId is not null)
            {
                hangfire.Delete(after.HangfireJobId);
            }
            cancellations.Cancel(id);
            logger.LogInformation("Job {JobId} cancelled while queued", id);
            return (CancelOutcome.Cancelled, after);
        }
        cancellations.Cancel(id);
        logger.LogInformation("Job {JobId} asked to stop", id);
        return (CancelOutcome.Cancelling, after);
    }
}
