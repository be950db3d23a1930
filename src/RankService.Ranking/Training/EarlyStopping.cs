using RankService.Ranking.Checkpoints;

namespace RankService.Ranking.Training;

/// <summary>
/// The best epoch of a run on validation <see cref="Trainer.SelectionMetric"/>, and when to stop: after
/// <c>patience</c> epochs without a better score (0 = never stop early). A resumed run continues the count.
/// </summary>
internal sealed class EarlyStopping
{
    private readonly int _patience;

    public EarlyStopping(int patience, ResumeState? resume)
    {
        _patience = patience;
        if (resume is not null)
        {
            BestEpoch = resume.BestEpoch;
            BestValidation = resume.BestValidation;
        }
    }

    /// <summary>The epoch with the best validation score so far; 0 before any epoch.</summary>
    public int BestEpoch { get; private set; }

    public IReadOnlyDictionary<string, double> BestValidation { get; private set; } = new Dictionary<string, double>();

    private double BestScore => BestEpoch > 0 ? BestValidation[Trainer.SelectionMetric] : double.NegativeInfinity;

    /// <summary>Records an epoch's validation; true when it is the best so far (strictly better: ties keep the earlier epoch).</summary>
    public bool Observe(int epoch, IReadOnlyDictionary<string, double> validation)
    {
        if (validation[Trainer.SelectionMetric] <= BestScore)
        {
            return false;
        }
        BestEpoch = epoch;
        BestValidation = validation;
        return true;
    }

    /// <summary>Whether a run whose last finished epoch is <paramref name="epoch"/> stops here.</summary>
    public bool ShouldStop(int epoch) => _patience > 0 && epoch - BestEpoch >= _patience;
}
