using System.Globalization;
using System.Text.Json.Serialization;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Api.Serving;
using RankService.Ranking.Baselines;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Data;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>Whether a finished job's model replaces the serving model of its data set (<c>promote</c> of POST /jobs).</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PromotePolicy>))]
public enum PromotePolicy
{
    /// <summary>Only when it is at least as good as the serving model, both evaluated on the new run's validation split.</summary>
    [JsonStringEnumMemberName("if-better")] IfBetter,
    [JsonStringEnumMemberName("always")] Always,

    /// <summary>Kept, never served unless activated by hand.</summary>
    [JsonStringEnumMemberName("never")] Never,
}

public static class PromotePolicies
{
    /// <summary>The policies as the wire spells them.</summary>
    public static readonly IReadOnlyList<string> Names = ["always", "if-better", "never"];

    public static PromotePolicy? Parse(string text) => text switch
    {
        "always" => PromotePolicy.Always,
        "if-better" => PromotePolicy.IfBetter,
        "never" => PromotePolicy.Never,
        _ => null,
    };

    public static string Wire(this PromotePolicy policy) => policy switch
    {
        PromotePolicy.Always => "always",
        PromotePolicy.Never => "never",
        _ => "if-better",
    };
}

/// <summary>What the promotion guard decided for a finished job, kept in its record.</summary>
/// <param name="Promoted">True when the job's model became the serving model of its data set.</param>
/// <param name="Reason">Why, in words (the numbers compared, or the policy).</param>
/// <param name="ServingJobId">The model served before the decision; null when none was.</param>
/// <param name="Candidate">The job's validation NDCG@10 on its own run's split, when compared.</param>
/// <param name="Serving">The serving model's validation NDCG@10 on the same split (users and items it lacks count as misses), when compared.</param>
public sealed record PromotionDecision(bool Promoted, string Reason, string? ServingJobId = null, double? Candidate = null, double? Serving = null);

/// <summary>
/// Decides whether a finished job's model replaces its data set's serving model, and swaps it in when so. With
/// <c>if-better</c> both models are evaluated on the new run's validation split (the data may have changed since the
/// serving model was trained): users and items are matched by raw id, and those the serving model lacks score NaN,
/// which ranks below every candidate, so they count as misses for it. The decision and the swap happen under one lock
/// per data set, Hangfire's distributed lock in the job storage (a row lock in PostgreSQL, so it holds across api and
/// worker nodes), so two jobs finishing at once, on one node or two, are each compared with the model the other left
/// serving. With shared (PostgreSQL) storage the serving model is read from serving.json, which every node writes.
/// </summary>
public sealed class PromotionGuard(
    JobStore store,
    ModelRegistry models,
    ServingStateFile servingState,
    JobStorage storage,
    IOptions<ServiceOptions> service,
    IOptions<JobsOptions> jobs,
    ILogger<PromotionGuard> logger) : IDisposable
{
    /// <summary>How long a node waits for another node's promotion of the same data set (it evaluates two models).</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(30);

    private readonly SemaphoreSlim _decisions = new(1, 1);

    /// <summary>The distributed lock's resource for <paramref name="dataset"/>.</summary>
    public static string LockResource(string dataset) => $"rankservice:promote:{dataset}";

    /// <summary>Decides for <paramref name="finished"/> (its succeeded record) trained on <paramref name="data"/>; serves it when promoted.</summary>
    public PromotionDecision Promote(JobRecord finished, RatingDataset data)
    {
        ArgumentNullException.ThrowIfNull(finished);
        ArgumentNullException.ThrowIfNull(data);
        _decisions.Wait();
        try
        {
            using IStorageConnection connection = storage.GetConnection();
            using IDisposable nodes = connection.AcquireDistributedLock(LockResource(finished.Dataset), LockTimeout);
            PromotionDecision decision = Decide(finished, data);
            logger.LogInformation("Job {JobId} on {Dataset}: {Decision}", finished.Id, finished.Dataset, decision.Reason);
            if (decision.Promoted)
            {
                JobRecord decided = finished with { Promotion = decision };
                if (service.Value.ServesHttpApi)
                {
                    models.OfferFinished(decided);
                }
                else
                {
                    // A worker serves nothing itself: the choice goes to serving.json, which api nodes load and follow.
                    servingState.Update(s => s.Serving(finished.Dataset, finished.Id) with { LastActivated = finished.Dataset });
                }
            }
            return decision;
        }
        finally
        {
            _decisions.Release();
        }
    }

    private PromotionDecision Decide(JobRecord finished, RatingDataset data)
    {
        if (finished.Promote == PromotePolicy.Never)
        {
            return new PromotionDecision(false, $"kept, not served: promote is never (POST /models/{finished.Id}/activate serves it)");
        }
        // Another node may have promoted since this node's registry last followed serving.json: with shared storage the file decides.
        string? servingId = service.Value.ServesHttpApi && jobs.Value.Storage == JobStorageKind.InMemory
            ? models.Find(finished.Dataset)?.JobId
            : servingState.Read().Datasets.GetValueOrDefault(finished.Dataset);
        JobRecord? serving = servingId is null || servingId == finished.Id ? null : store.Find(servingId);
        string? servingPath = serving is null ? null : store.CheckpointPath(serving);
        if (serving is null || servingPath is null)
        {
            return new PromotionDecision(true, $"promoted: no model served {finished.Dataset}");
        }
        if (finished.Promote == PromotePolicy.Always)
        {
            return new PromotionDecision(true, $"promoted: promote is always (replaces job {serving.Id})", serving.Id);
        }

        UserSplit split = EvaluationProtocol.Split(data, finished.Options.Protocol, finished.Options.SplitSeed);
        string candidatePath = store.CheckpointPath(finished) ?? throw new CheckpointException($"Job {finished.Id} has no checkpoint.");
        double candidate;
        try
        {
            candidate = ValidationNdcg(candidatePath, data, split);
        }
        catch (CheckpointException e)
        {
            return new PromotionDecision(false, $"kept, not served: its own checkpoint cannot be evaluated: {e.Message}", serving.Id);
        }
        double current;
        try
        {
            current = ValidationNdcg(servingPath, data, split);
        }
        catch (CheckpointException e)
        {
            return new PromotionDecision(true, $"promoted: serving job {serving.Id}'s checkpoint cannot be evaluated: {e.Message}", serving.Id, candidate);
        }
        string numbers = string.Create(CultureInfo.InvariantCulture,
            $"validation NDCG@10 {candidate:F4} against serving job {serving.Id}'s {current:F4}, both on this run's validation split");
        // At least as good: a retrain that ties (the same config and data) replaces the older model.
        return candidate >= current
            ? new PromotionDecision(true, $"promoted: {numbers}", serving.Id, candidate, current)
            : new PromotionDecision(false, $"kept, not served: {numbers} (promote is if-better; POST /models/{finished.Id}/activate serves it anyway)", serving.Id, candidate, current);
    }

    /// <summary>The validation NDCG@10 of a checkpoint's model on <paramref name="split"/> of <paramref name="data"/>, ids matched by raw id.</summary>
    /// <remarks>A blend is evaluated as it serves: its EASE part scores each user's train items of the split.</remarks>
    internal static double ValidationNdcg(string manifestPath, RatingDataset data, UserSplit split)
    {
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(manifestPath);
        var tower = new PrecomputedScorer(checkpoint.Model);
        EaseScorer? ease = checkpoint.Manifest.Blend is { } blend
            ? EaseScorer.FromWeights(tower.ItemCount, CheckpointStore.LoadEase(manifestPath, blend), [], blend.EaseLambda)
            : null;
        var scorer = new RawIdScorer(tower, ease, checkpoint.Manifest.Blend?.Weight ?? 1, checkpoint.Ids, data, split);
        return FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, [10]).Metrics[MetricNames.Ndcg10];
    }

    public void Dispose() => _decisions.Dispose();

    /// <summary>
    /// A model's scores over another data set's dense indices, matched by raw id: a user the model lacks gets a row
    /// of NaN, an item it lacks NaN (the evaluator ranks NaN below every number, ties pessimistic: a miss).
    /// </summary>
    private sealed class RawIdScorer : IItemScorer
    {
        private readonly PrecomputedScorer _model;
        private readonly EaseScorer? _ease;
        private readonly double _weight;
        private readonly UserSplit _split;
        private readonly int[] _users;
        private readonly int[] _items;
        private readonly float[] _row;
        private readonly float[] _tower;
        private readonly float[] _easeRow;

        public RawIdScorer(PrecomputedScorer model, EaseScorer? ease, double weight, CheckpointIds ids, RatingDataset data, UserSplit split)
        {
            _model = model;
            _ease = ease;
            _weight = weight;
            _split = split;
            _users = Map(ids.UserIds, data.Users);
            _items = Map(ids.ItemIds, data.Items);
            _row = new float[model.ItemCount];
            _tower = new float[model.ItemCount];
            _easeRow = new float[model.ItemCount];
        }

        public int ItemCount => _items.Length;

        public void Score(ReadOnlySpan<int> users, Span<float> scores)
        {
            int n = ItemCount;
            for (int r = 0; r < users.Length; r++)
            {
                Span<float> row = scores.Slice(r * n, n);
                int user = _users[users[r]];
                if (user < 0)
                {
                    row.Fill(float.NaN);
                    continue;
                }
                if (_ease is null)
                {
                    _model.ScoreUser(user, _row);
                }
                else
                {
                    // The blend in the model's own item space, its EASE part from the user's train items it knows.
                    _model.ScoreUser(user, _tower);
                    int[] history = _split.TrainItems[users[r]].Select(i => _items[i]).Where(i => i >= 0).Distinct().ToArray();
                    _ease.ScoreItems(history, _easeRow);
                    ScoreBlend.Combine(_tower, _easeRow, _weight, _row);
                }
                for (int i = 0; i < n; i++)
                {
                    row[i] = _items[i] >= 0 ? _row[_items[i]] : float.NaN;
                }
            }
        }

        /// <summary>For each dense index of <paramref name="target"/>, the model's index of the same raw id, or -1.</summary>
        private static int[] Map(IReadOnlyList<string> modelIds, IdMap target)
        {
            var index = new Dictionary<string, int>(modelIds.Count, StringComparer.Ordinal);
            for (int i = 0; i < modelIds.Count; i++)
            {
                index[modelIds[i]] = i;
            }
            var map = new int[target.Count];
            for (int i = 0; i < map.Length; i++)
            {
                map[i] = index.TryGetValue(target.ToId(i), out int m) ? m : -1;
            }
            return map;
        }
    }
}
