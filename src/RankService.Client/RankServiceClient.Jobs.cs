using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary><c>POST /jobs</c>: queues a training job (needs a key, or loopback without keys); the queued job.</summary>
    public Task<Job> SubmitJobAsync(JobSubmission submission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        return PostAsync<Job>("jobs", submission.ToJson(), cancellationToken);
    }

    /// <summary><c>GET /jobs/{id}</c>.</summary>
    public Task<Job> GetJobAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<Job>($"jobs/{Segment(id)}", cancellationToken);

    /// <summary><c>GET /jobs</c>: one page of jobs, newest first (<paramref name="pageSize"/> 1 to 100).</summary>
    public Task<JobPage> ListJobsAsync(int page = 1, int pageSize = 20, CancellationToken cancellationToken = default) =>
        GetAsync<JobPage>(string.Create(CultureInfo.InvariantCulture, $"jobs?page={page}&pageSize={pageSize}"), cancellationToken);

    /// <summary>
    /// <c>DELETE /jobs/{id}</c> (needs a key): a queued job comes back cancelled; a running one comes back with
    /// <see cref="Job.CancelRequested"/> set and stops within one batch. A finished job throws a 409.
    /// </summary>
    public Task<Job> CancelJobAsync(string id, CancellationToken cancellationToken = default) =>
        DeleteAsync<Job>($"jobs/{Segment(id)}", cancellationToken);

    /// <summary><c>GET /jobs/{id}/metrics</c>: per-epoch series; test metrics and the popularity baseline once done.</summary>
    public Task<JobMetrics> GetJobMetricsAsync(string id, CancellationToken cancellationToken = default) =>
        GetAsync<JobMetrics>($"jobs/{Segment(id)}/metrics", cancellationToken);
}

/// <summary>
/// The body of <c>POST /jobs</c>. Training options go in <see cref="Options"/> by their JSON names (<c>epochs</c>,
/// <c>learningRate</c>, <c>loss</c>, ...: the service's option catalog lists them in its OpenAPI schema and names any
/// it does not know in the 400); a field left out takes the service's configured default.
/// </summary>
public sealed class JobSubmission
{
    /// <summary>A configured data set (<c>ml-100k</c>, ...) or <c>synthetic</c>; null: the service's default.</summary>
    public string? Dataset { get; init; }

    /// <summary>Retrain the model of this job id with its manifest's config; <see cref="Options"/> still override it.</summary>
    public string? FromModel { get; init; }

    /// <summary>A full training config to start from (a manifest's <c>training</c> object); <see cref="Options"/> override it.</summary>
    public JsonObject? Training { get; init; }

    /// <summary>Training options as top-level fields, e.g. <c>Options = { ["epochs"] = 5, ["loss"] = "softmax" }</c>.</summary>
    public JsonObject Options { get; init; } = [];

    /// <summary>Makes the job a hyperparameter search: one child job per trial, the best on validation NDCG@10 picked.</summary>
    public SearchSubmission? Search { get; init; }

    /// <summary>always, if-better or never: whether the model may replace the serving one; null: the service's default (if-better).</summary>
    public string? Promote { get; init; }

    /// <summary><c>ease</c> to serve the model blended with EASE; null: the two-tower model alone.</summary>
    public string? Blend { get; init; }

    /// <summary>The JSON body: the options as top-level fields beside <c>dataset</c>, <c>fromModel</c> and <c>training</c>.</summary>
    public JsonObject ToJson()
    {
        var body = new JsonObject();
        foreach ((string name, JsonNode? value) in Options)
        {
            body[name] = value?.DeepClone();
        }
        if (Dataset is not null)
        {
            body["dataset"] = Dataset;
        }
        if (FromModel is not null)
        {
            body["fromModel"] = FromModel;
        }
        if (Training is not null)
        {
            body["training"] = Training.DeepClone();
        }
        if (Search is not null)
        {
            body["search"] = Search.ToJson();
        }
        if (Promote is not null)
        {
            body["promote"] = Promote;
        }
        if (Blend is not null)
        {
            body["blend"] = Blend;
        }
        return body;
    }
}

/// <summary>
/// The <c>search</c> of <c>POST /jobs</c>: <see cref="Trials"/> distinct configurations drawn (seeded by <see cref="Seed"/>)
/// from the grid that <see cref="Space"/> spans, e.g. <c>Space = { ["learningRate"] = new JsonArray(0.001, 0.01) }</c>.
/// </summary>
public sealed class SearchSubmission
{
    public required int Trials { get; init; }

    /// <summary>Training option (JSON name) to the values to try.</summary>
    public required JsonObject Space { get; init; }

    /// <summary>Seed of the draw; null: the service's (0).</summary>
    public int? Seed { get; init; }

    public JsonObject ToJson()
    {
        var search = new JsonObject { ["trials"] = Trials, ["space"] = Space.DeepClone() };
        if (Seed is not null)
        {
            search["seed"] = Seed;
        }
        return search;
    }
}

/// <summary>A search as its parent job records it.</summary>
public sealed record JobSearch(int Trials, IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> Space, int Seed);

/// <summary>What the promotion guard decided for a succeeded job.</summary>
/// <param name="Candidate">The job's validation NDCG@10 on its own split, when compared.</param>
/// <param name="Serving">The serving model's validation NDCG@10 on the same split, when compared.</param>
public sealed record PromotionDecision(bool Promoted, string Reason, string? ServingJobId = null, double? Candidate = null, double? Serving = null);

/// <summary>One row of a search's leaderboard; <see cref="Rank"/> null for a trial that did not succeed.</summary>
public sealed record SearchLeaderboardEntry(
    int? Rank,
    string JobId,
    JobState State,
    IReadOnlyDictionary<string, JsonElement> Values,
    double? ValidationNdcg10,
    double? TestNdcg10,
    int BestEpoch,
    bool Best);

/// <summary>Where a training job is in its life (wire names: queued, running, succeeded, failed, cancelled).</summary>
public enum JobState
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("queued")] Queued,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("running")] Running,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("succeeded")] Succeeded,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("failed")] Failed,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("cancelled")] Cancelled,
}

/// <summary>A training job as <c>GET /jobs/{id}</c> shows it.</summary>
/// <param name="Trials">A search's trial jobs, in draw order; <see cref="BestTrial"/> the one it picked.</param>
/// <param name="ParentId">The search a trial belongs to; <see cref="TrialValues"/> its values of the search's space.</param>
/// <param name="Options">The training options in force, by JSON name (the service's catalog defines them).</param>
public sealed record Job(
    string Id,
    string Dataset,
    JobState State,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    JobProgress Progress,
    int BestEpoch,
    IReadOnlyDictionary<string, double>? BestValidation,
    IReadOnlyDictionary<string, double>? Test,
    string? Checkpoint,
    string? Error,
    bool CancelRequested,
    bool StoppedEarly,
    JsonObject Options,
    string? Promote = null,
    PromotionDecision? Promotion = null,
    string? Blend = null,
    JobSearch? Search = null,
    IReadOnlyList<string>? Trials = null,
    string? BestTrial = null,
    string? ParentId = null,
    IReadOnlyDictionary<string, JsonElement>? TrialValues = null)
{
    /// <summary>Succeeded, failed or cancelled.</summary>
    public bool IsFinished => State is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}

public sealed record JobProgress(int Epoch, int TotalEpochs, double Percent, double ElapsedSeconds, double? EstimatedRemainingSeconds);

public sealed record JobPage(int Page, int PageSize, int Total, IReadOnlyList<Job> Items);

/// <summary>One finished epoch: train loss and its parts, validation metrics, seconds, items trained on, whether best so far.</summary>
public sealed record JobEpoch(
    int Epoch,
    int TotalEpochs,
    double TrainLoss,
    IReadOnlyDictionary<string, double> LossParts,
    IReadOnlyDictionary<string, double> Validation,
    double EpochSeconds,
    bool IsBest,
    long TrainItems);

/// <summary><c>GET /jobs/{id}/metrics</c>; a search's <see cref="Leaderboard"/> lists its trials, best validation NDCG@10 first.</summary>
public sealed record JobMetrics(
    string JobId,
    JobState State,
    int BestEpoch,
    IReadOnlyList<JobEpoch> Epochs,
    IReadOnlyDictionary<string, double>? BestValidation,
    IReadOnlyDictionary<string, double>? Test,
    IReadOnlyDictionary<string, double>? PopularityValidation,
    IReadOnlyDictionary<string, double>? PopularityTest,
    IReadOnlyList<SearchLeaderboardEntry>? Leaderboard = null);
