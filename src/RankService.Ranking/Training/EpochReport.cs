namespace RankService.Ranking.Training;

/// <summary>What one epoch did: train loss and its parts, validation metrics, time, and whether it is the best so far.</summary>
public sealed record EpochReport(
    int Epoch,
    int TotalEpochs,
    double TrainLoss,
    IReadOnlyDictionary<string, double> LossParts,
    IReadOnlyDictionary<string, double> Validation,
    double EpochSeconds,
    bool IsBest)
{
    /// <summary>List entries the epoch trained on (train items and sampled negatives); 0 in reports saved before it was recorded.</summary>
    public long TrainItems { get; init; }
}

/// <summary>The outcome of a run: the history, the best epoch's metrics, test metrics of the best checkpoint, the baseline.</summary>
public sealed record TrainingResult(
    IReadOnlyList<EpochReport> History,
    int BestEpoch,
    IReadOnlyDictionary<string, double> BestValidation,
    IReadOnlyDictionary<string, double> Test,
    IReadOnlyDictionary<string, double> PopularityValidation,
    IReadOnlyDictionary<string, double> PopularityTest,
    string BestCheckpoint,
    string LastCheckpoint,
    bool StoppedEarly,
    bool Cancelled)
{
    /// <summary>The epoch a resumed run continued after (its earlier epochs are in <see cref="History"/>); 0 for a fresh run.</summary>
    public int ResumedAfterEpoch { get; init; }
}
