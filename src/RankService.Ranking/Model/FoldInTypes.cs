using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Model;

/// <summary>
/// One interaction of a user to fold in: a dense item index and, optionally, its value (a rating; the training label).
/// A missing value counts as 1, a positive like an implicit-feedback interaction; 0 or less marks an explicit negative
/// (label 0, as training's sampled negatives are).
/// </summary>
public readonly record struct FoldInItem(int Item, float? Value = null);

/// <summary>
/// How <see cref="UserFoldIn"/> solves for a new user: the run's loss and its options, the L2 strength on the user
/// embedding and the solver's limits. <see cref="FromTraining"/> derives them from a run's training options.
/// </summary>
public sealed record FoldInSettings
{
    /// <summary>The loss to minimise (the run's).</summary>
    public LossKind Loss { get; init; } = LossKind.Softmax;

    /// <summary>The run's options: the loss's own options, <c>NegativesPerList</c>, <c>MaxListSize</c>.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>λ of the penalty λ/2 ||e||² on the user embedding e (see <see cref="FromTraining"/> for the default).</summary>
    public double L2 { get; init; }

    /// <summary>Most L-BFGS iterations (each one objective and gradient evaluation, more when a step backtracks).</summary>
    public int MaxIterations { get; init; } = 200;

    /// <summary>Stops when every gradient component is below this times max(1, largest |e_k|).</summary>
    public double GradientTolerance { get; init; } = 1e-5;

    /// <summary>
    /// Lists drawn for losses over sampled lists (everything but softmax): each is the given items plus
    /// <c>NegativesPerList</c> items they did not interact with, ties in a random order, as a training list is; the
    /// objective is the mean over these fixed draws, so it is deterministic and smooth for the solver.
    /// </summary>
    public int SampledLists { get; init; } = 4;

    /// <summary>Sends every loss through the general (TorchSharp) path; tests compare it with the closed-form ones.</summary>
    internal bool GeneralPath { get; init; }

    /// <summary>Seeds the sampled lists (and a loss's own draws); the same input and seed give the same vector.</summary>
    public int Seed { get; init; } = 17;

    /// <summary>
    /// The settings that reproduce what training optimises for a user row. Training minimises the batch mean of the
    /// list losses plus Adam's coupled decay wd·e on every step: with dense updates every row decays on every one of
    /// the epoch's <c>lists / batch</c> steps while its own list enters one step with weight 1/batch, so at a
    /// stationary point ∂L_u/∂e + wd·lists·e = 0, i.e. λ = wd × lists; with lazy updates a row decays only on its own
    /// step, λ = wd × batch size. <paramref name="trainingLists"/> is the number of users with a train item (the
    /// model's user count when null).
    /// </summary>
    public static FoldInSettings FromTraining(TrainingOptions training, int userCount, int itemCount, int? trainingLists = null)
    {
        ArgumentNullException.ThrowIfNull(training);
        int lists = trainingLists ?? userCount;
        double rows = training.LazyEmbeddingUpdates(userCount, itemCount) ? Math.Min(training.BatchSize, lists) : lists;
        return new FoldInSettings
        {
            Loss = training.Loss,
            Training = training,
            L2 = training.WeightDecay * Math.Max(1, rows),
            Seed = training.Seed,
        };
    }
}

/// <summary>
/// A folded-in user. <see cref="UserVector"/> is in the space <see cref="PrecomputedScorer.ScoreVector"/> scores (the
/// user tower's output for dot, the first head layer's user half for concat-mlp); <see cref="Embedding"/> is the
/// solved user embedding; <see cref="Objective"/> the loss plus penalty there.
/// </summary>
public sealed record FoldInResult(float[] UserVector, float[] Embedding, double Objective, int Iterations, bool Converged);
