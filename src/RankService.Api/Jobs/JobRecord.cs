using System.Text.Json;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>
/// The status record of a job, kept as <c>status.json</c> in the job's folder and rewritten atomically on every
/// change. It is the source of truth for the job's history; Hangfire only runs it.
/// </summary>
public sealed record JobRecord
{
    public required string Id { get; init; }
    public required string Dataset { get; init; }
    public required TrainingOptions Options { get; init; }
    public JobState State { get; init; } = JobState.Queued;
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Epochs finished so far.</summary>
    public int Epoch { get; init; }

    /// <summary>Seconds spent in finished epochs, for the time estimate.</summary>
    public double EpochSeconds { get; init; }

    public int BestEpoch { get; init; }
    public IReadOnlyDictionary<string, double>? BestValidation { get; init; }
    public IReadOnlyDictionary<string, double>? Test { get; init; }
    public IReadOnlyDictionary<string, double>? PopularityValidation { get; init; }
    public IReadOnlyDictionary<string, double>? PopularityTest { get; init; }

    /// <summary>The best checkpoint's manifest, relative to the job folder; null until an epoch has finished.</summary>
    public string? Checkpoint { get; init; }

    public bool StoppedEarly { get; init; }
    public bool CancelRequested { get; init; }

    /// <summary>Why the job was asked to stop when it was not DELETE /jobs/{id} (deleted in the Hangfire dashboard); the cancelled job's error.</summary>
    public string? CancelReason { get; init; }

    public string? Error { get; init; }
    public string? HangfireJobId { get; init; }

    /// <summary>The epoch the latest run of this job continued after (a worker killed or stopped earlier); 0 when it never resumed.</summary>
    public int ResumedAfterEpoch { get; init; }

    /// <summary>Whether its model may replace the serving one when it succeeds (<see cref="PromotionGuard"/>).</summary>
    public PromotePolicy Promote { get; init; } = PromotePolicy.IfBetter;

    /// <summary>What the promotion guard decided when it succeeded; null before, and for jobs of earlier versions.</summary>
    public PromotionDecision? Promotion { get; init; }

    /// <summary><c>ease</c> when the job serves its model blended with EASE; null for the two-tower alone.</summary>
    public string? Blend { get; init; }

    /// <summary>A search's parent: the search asked for, its trials' job ids in draw order and the one it picked.</summary>
    public SearchSpec? Search { get; init; }
    public IReadOnlyList<string>? Trials { get; init; }
    public string? BestTrial { get; init; }

    /// <summary>A search's trial: the parent job and the trial's values of the search space.</summary>
    public string? ParentId { get; init; }
    public IReadOnlyDictionary<string, JsonElement>? TrialValues { get; init; }

    /// <summary>The best validation NDCG@10, or negative infinity without one.</summary>
    public double SelectionScore =>
        BestValidation is not null && BestValidation.TryGetValue(Trainer.SelectionMetric, out double v) ? v : double.NegativeInfinity;
}
