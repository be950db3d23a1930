using RankService.Api.Jobs;
using RankService.Ranking.Training;

namespace RankService.Api.Apis;

/// <summary>A training job as the API shows it.</summary>
/// <param name="Id">Job id (also the model's id once it has a checkpoint).</param>
/// <param name="Dataset">The data set it trains on.</param>
/// <param name="State">queued, running, succeeded, failed or cancelled.</param>
/// <param name="Progress">Epochs done, percent, elapsed and estimated remaining time.</param>
/// <param name="BestEpoch">Epoch of the best validation NDCG@10 so far; 0 before the first epoch ends.</param>
/// <param name="BestValidation">Validation metrics of the best epoch so far (NDCG@10, HR@10, MRR, ...).</param>
/// <param name="Test">Test metrics of the best checkpoint, when done.</param>
/// <param name="Checkpoint">The best checkpoint's manifest, relative to the job folder; null before one exists.</param>
/// <param name="Error">Why it failed; "interrupted..." when the service stopped while it was queued or running; why a job was cancelled when it was not DELETE /jobs/{id} (deleted in the Hangfire dashboard).</param>
/// <param name="CancelRequested">True once DELETE /jobs/{id} asked it to stop.</param>
/// <param name="Options">The training options in force: the request over the configured defaults.</param>
/// <param name="Promote">always, if-better or never: whether its model may replace the serving one.</param>
/// <param name="Promotion">What the promotion guard decided when it succeeded (promoted or kept, and why); null before.</param>
/// <param name="Blend">ease when the model is served blended with EASE; null for the two-tower alone.</param>
/// <param name="Search">A search's trials, space and seed; null for a plain job.</param>
/// <param name="Trials">A search's trial jobs, in draw order.</param>
/// <param name="BestTrial">The trial a finished search picked (best validation NDCG@10).</param>
/// <param name="ParentId">The search a trial belongs to.</param>
/// <param name="TrialValues">A trial's values of its search's space.</param>
public sealed record JobView(
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
    TrainingOptions Options,
    PromotePolicy Promote = PromotePolicy.IfBetter,
    PromotionDecision? Promotion = null,
    string? Blend = null,
    SearchSpec? Search = null,
    IReadOnlyList<string>? Trials = null,
    string? BestTrial = null,
    string? ParentId = null,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement>? TrialValues = null)
{
    public static JobView From(JobRecord r, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(r);
        return new(r.Id, r.Dataset, r.State, r.CreatedAt, r.StartedAt, r.FinishedAt, JobProgress.From(r, now),
            r.BestEpoch, r.BestValidation, r.Test, r.Checkpoint, r.Error, r.CancelRequested, r.StoppedEarly, r.Options,
            r.Promote, r.Promotion, r.Blend, r.Search, r.Trials, r.BestTrial, r.ParentId, r.TrialValues);
    }
}

/// <param name="Epoch">Epochs finished.</param>
/// <param name="TotalEpochs">Epochs asked for (early stopping may end sooner).</param>
/// <param name="Percent">Epoch / TotalEpochs * 100; 100 once succeeded.</param>
/// <param name="ElapsedSeconds">Since the job started (until it finished).</param>
/// <param name="EstimatedRemainingSeconds">Mean epoch time times epochs left, while running and after the first epoch.</param>
public sealed record JobProgress(int Epoch, int TotalEpochs, double Percent, double ElapsedSeconds, double? EstimatedRemainingSeconds)
{
    public static JobProgress From(JobRecord r, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(r);
        int total = r.Options.Epochs;
        double percent = r.State == JobState.Succeeded ? 100 : Math.Round(100.0 * r.Epoch / Math.Max(1, total), 1);
        double elapsed = r.StartedAt is null ? 0 : Math.Max(0, ((r.FinishedAt ?? now) - r.StartedAt.Value).TotalSeconds);
        double? remaining = r.State == JobState.Running && r.Epoch > 0 ? Math.Round(r.EpochSeconds / r.Epoch * (total - r.Epoch), 1) : null;
        return new JobProgress(r.Epoch, total, percent, Math.Round(elapsed, 1), remaining);
    }
}

/// <summary>A page of jobs, newest first.</summary>
public sealed record JobPage(int Page, int PageSize, int Total, IReadOnlyList<JobView> Items);

/// <summary>Per-epoch series and, when done, test metrics and the popularity baseline.</summary>
/// <param name="Epochs">One entry per finished epoch: train loss and its parts, validation metrics, seconds, whether best.</param>
/// <param name="Test">Test metrics of the best checkpoint; null until the job is done.</param>
/// <param name="PopularityValidation">The popularity baseline on validation; null until done.</param>
/// <param name="PopularityTest">The popularity baseline on test; null until done.</param>
/// <param name="Leaderboard">A search's trials, best validation NDCG@10 first; null for a plain job.</param>
public sealed record JobMetrics(
    string JobId,
    JobState State,
    int BestEpoch,
    IReadOnlyList<EpochReport> Epochs,
    IReadOnlyDictionary<string, double>? BestValidation,
    IReadOnlyDictionary<string, double>? Test,
    IReadOnlyDictionary<string, double>? PopularityValidation,
    IReadOnlyDictionary<string, double>? PopularityTest,
    IReadOnlyList<LeaderboardEntry>? Leaderboard = null);
