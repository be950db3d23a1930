using System.Collections.Immutable;
using RankService.Api.Jobs;
using RankService.Ranking.Checkpoints;

namespace RankService.Api.Serving;

/// <summary>
/// The serving model of each data set. A swap replaces one immutable map by another (one reference write), so a
/// request sees the old or the new model; retiring the old one frees its native model only, so a request that took
/// it just before the swap still finishes from its precomputed arrays.
/// The choice per data set (the model the <see cref="PromotionGuard"/> promoted last, or the one activated by hand) and the
/// data set activated last are kept in <c>{Artifacts:Root}/serving.json</c> (<see cref="ServingStateFile"/>: each change
/// is merged into the file as it is, under a lock across nodes) and loaded again on start.
/// </summary>
public sealed class ModelRegistry : IDisposable
{
    private readonly JobStore _store;
    private readonly ILogger<ModelRegistry> _logger;
    private readonly ServingStateFile _state;
    private readonly AnnIndexing _ann;
    private readonly SemaphoreSlim _changes = new(1, 1);
    private volatile ImmutableDictionary<string, ServingModel> _models = ImmutableDictionary.Create<string, ServingModel>(StringComparer.Ordinal);
    private volatile string? _lastActivated;
    private volatile bool _loaded;

    private readonly Datasets.ErasedUsersFilter? _erased;

    public ModelRegistry(JobStore store, ServingStateFile state, AnnIndexing ann, ILogger<ModelRegistry> logger, Datasets.ErasedUsersFilter? erased = null)
    {
        _ann = ann;
        _store = store;
        _state = state;
        _logger = logger;
        _erased = erased;
    }

    /// <summary>True once the start-up load has finished (with or without a model).</summary>
    public bool IsLoaded => _loaded;

    /// <summary>The data set whose model was activated last, or null before any.</summary>
    public string? LastActivatedDataset => _lastActivated;

    public ServingModel? Find(string dataset) => _models.GetValueOrDefault(dataset);

    /// <summary>Job id of the serving model per data set.</summary>
    public IReadOnlyDictionary<string, string> ServingJobs() => _models.ToDictionary(p => p.Key, p => p.Value.JobId, StringComparer.Ordinal);

    /// <summary>Loads, for each data set, the model recorded in serving.json, else the best succeeded job.</summary>
    public void LoadOnStart()
    {
        _changes.Wait();
        try
        {
            ServingState state = _state.Read();
            IReadOnlyList<JobRecord> jobs = _store.List();
            foreach (string dataset in jobs.Where(HasModel).Select(r => r.Dataset).Distinct(StringComparer.Ordinal))
            {
                // The model activated by hand (any finished job with a checkpoint) first, then succeeded jobs, best first.
                JobRecord? pinned = state.Datasets.TryGetValue(dataset, out string? id) && _store.Find(id) is { } p && HasModel(p) ? p : null;
                // Without one: the model the promotion guard promoted last, then (jobs of earlier versions) the best.
                IEnumerable<JobRecord> succeeded = jobs.Where(r => r.Dataset == dataset && r.State == JobState.Succeeded && r.Checkpoint is not null);
                IEnumerable<JobRecord> candidates = (pinned is null ? [] : new[] { pinned })
                    .Concat(succeeded.Where(r => r.Promotion is { Promoted: true }).OrderByDescending(r => r.FinishedAt))
                    .Concat(succeeded.Where(r => r.Promotion is null).OrderByDescending(r => r.SelectionScore).ThenByDescending(r => r.CreatedAt));
                foreach (JobRecord candidate in candidates)
                {
                    if (TryLoad(candidate) is { } model)
                    {
                        Swap(model);
                        break;
                    }
                }
            }
            _lastActivated = state.LastActivated is not null && _models.ContainsKey(state.LastActivated)
                ? state.LastActivated
                : _models.Values.OrderByDescending(m => _store.Find(m.JobId)?.FinishedAt).FirstOrDefault()?.Dataset;
            // What this node loaded, over the file as it is now (another node may have changed it meanwhile).
            _state.Update(s => ServingJobs().Aggregate(s, (merged, p) => merged.Serving(p.Key, p.Value)) with { LastActivated = _lastActivated ?? s.LastActivated });
        }
        finally
        {
            _loaded = true;
            _changes.Release();
        }
    }

    /// <summary>Ready without loading anything (Serving:LoadOnStart off).</summary>
    public void MarkLoaded() => _loaded = true;

    /// <summary>
    /// Serves a finished job's model when the promotion guard promoted it (<see cref="JobRecord.Promotion"/>); a job of
    /// an earlier version, with no decision, when it beats the serving model's validation NDCG@10.
    /// </summary>
    public void OfferFinished(JobRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Checkpoint is null)
        {
            return; // a search's parent: its model is its best trial's, offered when that trial finished
        }
        _changes.Wait();
        try
        {
            if (record.Promotion is { } decision)
            {
                // A watcher may offer an earlier promotion after a later one: the later one keeps serving.
                ServingModel? serving = Find(record.Dataset);
                if (serving is not null && (serving.JobId == record.Id || _store.Find(serving.JobId)?.FinishedAt > record.FinishedAt))
                {
                    return;
                }
                if (decision.Promoted && TryLoad(record) is { } promoted)
                {
                    Swap(promoted);
                    Record(record);
                }
                return;
            }
            ServingModel? current = Find(record.Dataset);
            double currentScore = current is null ? double.NegativeInfinity : _store.Find(current.JobId)?.SelectionScore ?? double.NegativeInfinity;
            if (current is not null && record.SelectionScore <= currentScore)
            {
                _logger.LogInformation("Job {JobId} (NDCG@10 {Score:F4}) does not beat serving job {ServingJobId} ({Current:F4}) on {Dataset}",
                    record.Id, record.SelectionScore, current.JobId, currentScore, record.Dataset);
                return;
            }
            if (TryLoad(record) is { } model)
            {
                Swap(model);
                Record(record);
            }
        }
        finally
        {
            _changes.Release();
        }
    }

    /// <summary>Serves <paramref name="record"/>'s model by hand; throws <see cref="CheckpointException"/> when it cannot be loaded.</summary>
    public ServingModel Activate(JobRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        _changes.Wait();
        try
        {
            if (Find(record.Dataset) is { } current && current.JobId == record.Id)
            {
                Record(record);
                return current;
            }
            ServingModel model = Load(record);
            Swap(model);
            Record(record);
            return model;
        }
        finally
        {
            _changes.Release();
        }
    }

    private static bool HasModel(JobRecord r) => r.State is JobState.Succeeded or JobState.Cancelled && r.Checkpoint is not null && r.BestEpoch > 0;

    private ServingModel? TryLoad(JobRecord record)
    {
        try
        {
            return Load(record);
        }
        catch (CheckpointException e)
        {
            _logger.LogWarning(e, "Cannot serve job {JobId}: {Error}", record.Id, e.Message);
            return null;
        }
    }

    private ServingModel Load(JobRecord record)
    {
        string path = _store.CheckpointPath(record) ?? throw new CheckpointException($"Job {record.Id} has no checkpoint.");
        LoadedCheckpoint checkpoint = CheckpointStore.Load(path);
        try
        {
            SeenItems? seen = CheckpointStore.LoadSeen(path, checkpoint.Manifest);
            float[]? ease = checkpoint.Manifest.Blend is { } blend ? CheckpointStore.LoadEase(path, blend) : null;
            var model = new ServingModel(record.Id, record.Dataset, checkpoint, seen, CheckpointStore.LoadNeverRecommend(path, checkpoint.Manifest), ease);
            _logger.LogInformation("Loaded job {JobId}'s {Kind} model for {Dataset}: {Users} users, {Items} items", record.Id, model.Kind, record.Dataset, checkpoint.Ids.UserIds.Count, model.ItemCount);
            _erased?.Apply(model);
            return model;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    private void Swap(ServingModel model)
    {
        ServingModel? old = _models.GetValueOrDefault(model.Dataset);
        _models = _models.SetItem(model.Dataset, model);
        _logger.LogInformation("Serving job {JobId}'s model for {Dataset}", model.JobId, model.Dataset);
        old?.Retire();
        _ann.AttachInBackground(model); // ranks exactly until its index is loaded (or rebuilt) and attached
    }

    /// <summary>Records in serving.json that <paramref name="record"/> serves its data set, activated last (call under _changes).</summary>
    private void Record(JobRecord record)
    {
        _lastActivated = record.Dataset;
        _state.Update(s => s.Serving(record.Dataset, record.Id) with { LastActivated = record.Dataset });
    }

    public void Dispose()
    {
        foreach (ServingModel model in _models.Values)
        {
            model.Retire();
        }
        _models = _models.Clear();
        _changes.Dispose();
    }
}
