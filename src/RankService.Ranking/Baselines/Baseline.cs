using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Baselines;

/// <summary>Validation and test metrics of one baseline run, with what was chosen on validation (EASE's λ, BPR's epoch).</summary>
public sealed record BaselineResult(
    string Model,
    IReadOnlyDictionary<string, double> Validation,
    IReadOnlyDictionary<string, double> Test,
    string Chosen);

/// <summary>
/// Runs the reference models through the same <see cref="FullCatalogueEvaluator"/> as the two-tower model:
/// <c>popularity</c>, <c>bpr</c> (<see cref="BprMatrixFactorization"/>) and <c>ease</c> (<see cref="EaseScorer"/>,
/// λ picked by validation NDCG@10 from a list).
/// </summary>
public static class Baseline
{
    public const string Popularity = "popularity";
    public const string Bpr = "bpr";
    public const string Ease = "ease";

    public static readonly IReadOnlyList<string> Names = [Popularity, Bpr, Ease];

    /// <summary>λ values EASE tries by default; the one with the best validation NDCG@10 is used on test.</summary>
    public static readonly IReadOnlyList<double> DefaultLambdas = [50, 100, 200, 400, 800, 1600];

    public static BaselineResult Run(string model, UserSplit split, IReadOnlyList<int> ks, BprOptions? bpr = null,
        IReadOnlyList<double>? lambdas = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split is ColdUsersSplit { TrainedIn: false } && model != Popularity)
        {
            // BPR and EASE would score the held-out users from an empty history: only the two-tower model folds them in.
            throw new ArgumentException($"Under the cold-users protocol only the {Popularity} baseline is evaluated; train reports it beside the folded-in model.", nameof(model));
        }
        switch (model)
        {
            case Popularity:
            {
                var scorer = new PopularityScorer(split);
                return new BaselineResult(model, Evaluate(scorer, split, EvaluationTarget.Validation, ks),
                    Evaluate(scorer, split is ColdUsersSplit cold ? cold.TestSplit : split, EvaluationTarget.Test, ks), "");
            }
            case Bpr:
            {
                (TwoTowerModel trained, int bestEpoch, _) = BprMatrixFactorization.Train(split, bpr ?? new BprOptions(), null, cancellationToken);
                using (trained)
                using (var scorer = new ModelScorer(trained))
                {
                    return new BaselineResult(model, Evaluate(scorer, split, EvaluationTarget.Validation, ks),
                        Evaluate(scorer, split, EvaluationTarget.Test, ks), $"best epoch {bestEpoch}");
                }
            }
            case Ease:
            {
                (EaseScorer best, IReadOnlyDictionary<string, double> validation) = FitEase(split, ks, lambdas);
                return new BaselineResult(model, validation, Evaluate(best, split, EvaluationTarget.Test, ks), $"lambda {best.Lambda:G}");
            }
            default:
                throw new ArgumentException($"Unknown baseline '{model}'. Known baselines: {string.Join(", ", Names)}.", nameof(model));
        }
    }

    /// <summary>Fits EASE for each λ (default <see cref="DefaultLambdas"/>) and keeps the best on validation NDCG@10.</summary>
    public static (EaseScorer Scorer, IReadOnlyDictionary<string, double> Validation) FitEase(UserSplit split, IReadOnlyList<int> ks,
        IReadOnlyList<double>? lambdas = null)
    {
        ArgumentNullException.ThrowIfNull(split);
        EaseScorer? best = null;
        IReadOnlyDictionary<string, double>? bestValidation = null;
        foreach (double lambda in lambdas ?? DefaultLambdas)
        {
            EaseScorer scorer = EaseScorer.Fit(split, lambda);
            IReadOnlyDictionary<string, double> validation = Evaluate(scorer, split, EvaluationTarget.Validation, ks);
            if (bestValidation is null || validation[MetricNames.Ndcg10] > bestValidation[MetricNames.Ndcg10])
            {
                (best, bestValidation) = (scorer, validation);
            }
        }
        return best is null || bestValidation is null
            ? throw new ArgumentException("EASE needs at least one lambda.", nameof(lambdas))
            : (best, bestValidation);
    }

    private static IReadOnlyDictionary<string, double> Evaluate(IItemScorer scorer, UserSplit split, EvaluationTarget target, IReadOnlyList<int> ks) =>
        FullCatalogueEvaluator.Evaluate(scorer, split, target, ks.Contains(10) ? ks : [.. ks, 10]).Metrics;
}
