using System.Text.Json;
using Hangfire;
using Hangfire.States;
using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>What the jobs endpoints do: validate and enqueue a request, cancel a job.</summary>
public sealed class JobService(
    JobStore store,
    JobCancellations cancellations,
    IBackgroundJobClient hangfire,
    IOptions<DataOptions> dataOptions,
    IOptions<ServingOptions> servingOptions,
    IOptionsMonitor<TrainingOptions> trainingDefaults,
    JobLifecycle lifecycle,
    SearchCoordinator searches,
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
        if (request.Promote is not null && PromotePolicies.Parse(request.Promote) is null)
        {
            errors["promote"] = [$"promote must be one of {string.Join(", ", PromotePolicies.Names)}; got '{Apis.Echo.Of(request.Promote)}'."];
        }
        if (request.Blend is not null and not ("none" or EaseBlend.Kind))
        {
            errors["blend"] = [$"blend must be none or ease; got '{Apis.Echo.Of(request.Blend)}'."];
        }
        else if (request.Blend == EaseBlend.Kind && !errors.ContainsKey("dataset") && KnownCatalogueSize(dataset) is { } items
            && items > servingOptions.Value.MaxBlendItems)
        {
            errors["blend"] = [$"blend ease serves catalogues of up to {servingOptions.Value.MaxBlendItems} items (Serving:MaxBlendItems); {Apis.Echo.Of(dataset)} has {items}."];
        }
        // Every text field, present and future: an overlong one is named without being quoted back in full.
        var texts = new List<(string Field, string? Text)> { ("dataset", request.Dataset), ("fromModel", request.FromModel), ("promote", request.Promote), ("blend", request.Blend) };
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
    /// The data set's catalogue size when it is known without loading it: the synthetic set's configured size, else
    /// the latest model's manifest; null when unknown (the job then checks it once it has loaded the data).
    /// </summary>
    private int? KnownCatalogueSize(string dataset)
    {
        if (dataset == DataOptions.Synthetic)
        {
            return dataOptions.Value.SyntheticSet.Items;
        }
        foreach (JobRecord r in store.List().Where(r => r.Dataset == dataset && r.State == JobState.Succeeded && r.Checkpoint is not null))
        {
            try
            {
                return CheckpointStore.ReadVerified(store.CheckpointPath(r)!).Manifest.Dataset.Items;
            }
            catch (CheckpointException)
            {
                // An unreadable checkpoint says nothing: try the next model.
            }
        }
        return null;
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

    /// <summary>
    /// The trials of the request's search over <paramref name="options"/> (the request's other fields over their
    /// baseline); null without a search. Problems are added to <paramref name="errors"/>.
    /// </summary>
    public IReadOnlyList<SearchTrial>? PlanSearch(JobRequest request, TrainingOptions options, IDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Search is null ? null : SearchPlanner.Plan(request.Search, options, request.Options?.Keys.ToList() ?? [], errors);
    }

    /// <summary>Writes the job's folder and enqueues it on the training queue.</summary>
    public JobRecord Submit(string dataset, TrainingOptions options, JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return Enqueue(lifecycle.Queue(JobStore.NewId(), dataset, options) with { Promote = Policy(request), Blend = Blend(request) }, request);
    }

    /// <summary>
    /// A search: the parent's record (it trains nothing itself), then one queued job per trial, each the request's
    /// options with the trial's values and the request's promote policy.
    /// </summary>
    public JobRecord SubmitSearch(string dataset, TrainingOptions options, JobRequest request, IReadOnlyList<SearchTrial> trials)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(trials);
        PromotePolicy policy = Policy(request);
        string[] ids = trials.Select(_ => JobStore.NewId()).ToArray();
        SearchRequest search = request.Search!;
        var spec = new SearchSpec(trials.Count,
            search.Space!.ToDictionary(p => TrainingOptionCatalog.Find(p.Key)!.JsonName, p => (IReadOnlyList<JsonElement>)[.. p.Value.EnumerateArray().Select(v => v.Clone())], StringComparer.Ordinal),
            search.Seed ?? 0);
        JobRecord parent = store.Create(lifecycle.Queue(JobStore.NewId(), dataset, options) with { Promote = policy, Search = spec, Trials = ids }, request);
        logger.LogInformation("Search {JobId} on {Dataset}: {Trials} trials", parent.Id, dataset, trials.Count);
        for (int i = 0; i < trials.Count; i++)
        {
            JobRecord trial = lifecycle.Queue(ids[i], dataset, trials[i].Options) with { Promote = policy, Blend = Blend(request), ParentId = parent.Id, TrialValues = trials[i].Values };
            // The trial's request.json is what it would take to train it alone.
            var trialRequest = new JobRequest { Dataset = dataset, Promote = request.Promote, Blend = request.Blend, Training = JsonSerializer.SerializeToElement(trials[i].Options, JobStore.Json) };
            Enqueue(trial, trialRequest);
        }
        return store.Find(parent.Id) ?? parent;
    }

    private JobRecord Enqueue(JobRecord record, JobRequest request)
    {
        store.Create(record, request);
        string hangfireId = hangfire.Create<TrainingJob>(job => job.Run(record.Id, CancellationToken.None), new EnqueuedState(JobsOptions.TrainingQueue));
        logger.LogInformation("Job {JobId} queued on {Dataset} (Hangfire job {HangfireJobId})", record.Id, record.Dataset, hangfireId);
        return store.Update(record.Id, r => lifecycle.Enqueue(r, hangfireId)) ?? record;
    }

    private static string? Blend(JobRequest request) => request.Blend == EaseBlend.Kind ? EaseBlend.Kind : null;

    private static PromotePolicy Policy(JobRequest request) =>
        request.Promote is null ? PromotePolicy.IfBetter : PromotePolicies.Parse(request.Promote) ?? PromotePolicy.IfBetter;

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
        if (store.Find(id) is { Search: not null } search)
        {
            return CancelSearch(search);
        }
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
            if (after.ParentId is not null)
            {
                searches.TrialFinished(after.ParentId);
            }
            return (CancelOutcome.Cancelled, after);
        }
        cancellations.Cancel(id);
        logger.LogInformation("Job {JobId} asked to stop", id);
        return (CancelOutcome.Cancelling, after);
    }

    /// <summary>A search is cancelled at once, and so is each of its trials (a running one stops within one batch).</summary>
    private (CancelOutcome Outcome, JobRecord? Record) CancelSearch(JobRecord search)
    {
        JobState? seen = null;
        JobRecord? after = store.Update(search.Id, r =>
        {
            seen = r.State;
            return lifecycle.Cancel(r);
        });
        if (after is null || seen is not (JobState.Queued or JobState.Running))
        {
            return (after is null ? CancelOutcome.NotFound : CancelOutcome.AlreadyFinished, after);
        }
        foreach (string trial in after.Trials ?? [])
        {
            Cancel(trial);
        }
        logger.LogInformation("Search {JobId} cancelled with its trials", search.Id);
        return (CancelOutcome.Cancelled, after);
    }
}
