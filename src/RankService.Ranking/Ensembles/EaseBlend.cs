using RankService.Ranking.Baselines;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Ranking.Ensembles;

/// <summary>
/// The blend <c>rankservice sweep --ensemble ease</c> reports, made servable: EASE fitted on the run's train split
/// (λ chosen on validation NDCG@10 from <see cref="Baseline.DefaultLambdas"/>), the two-tower weight w tuned on
/// validation NDCG@10 (<see cref="ScoreBlend.TuneWeight"/>), each part and the blend evaluated once on test, and
/// EASE's weights saved beside the checkpoint with all of it in the manifest (<see cref="BlendManifest"/>). The
/// two-tower side is scored by <see cref="PrecomputedScorer"/>, the scorer that serves it, so the tuned blend is the
/// served one.
/// </summary>
public static class EaseBlend
{
    public const string Kind = "ease";

    /// <summary>Fits and saves the blend of the checkpoint <paramref name="manifestPath"/> with EASE; returns what its manifest now says.</summary>
    public static BlendManifest FitAndSave(string manifestPath, RatingDataset data, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        UserSplit split = EvaluationProtocol.Split(data, options.Protocol, options.SplitSeed);
        (EaseScorer ease, IReadOnlyDictionary<string, double> easeValidation) = Baseline.FitEase(split, Trainer.Ks);
        PrecomputedScorer tower;
        using (LoadedCheckpoint checkpoint = CheckpointStore.Load(manifestPath))
        {
            tower = new PrecomputedScorer(checkpoint.Model);
        }
        (double weight, IReadOnlyDictionary<string, double> blendValidation) = ScoreBlend.TuneWeight(tower, ease, split, Trainer.Ks);
        var blend = new BlendManifest(Kind, weight, ease.Lambda,
            new BlendPartMetrics(Evaluate(tower, split, EvaluationTarget.Validation), Evaluate(tower, split, EvaluationTarget.Test)),
            new BlendPartMetrics(easeValidation, Evaluate(ease, split, EvaluationTarget.Test)),
            new BlendPartMetrics(blendValidation, Evaluate(new ScoreBlend([tower, ease], [weight, 1 - weight]), split, EvaluationTarget.Test)),
            EaseFile: "", EaseSha256: "");
        CheckpointStore.SaveBlend(manifestPath, blend, ease.ItemCount, ease.Weights);
        return CheckpointStore.ReadVerified(manifestPath).Manifest.Blend!;
    }

    private static IReadOnlyDictionary<string, double> Evaluate(IItemScorer scorer, UserSplit split, EvaluationTarget target) =>
        FullCatalogueEvaluator.Evaluate(scorer, split, target, Trainer.Ks.Contains(10) ? Trainer.Ks : [.. Trainer.Ks, 10]).Metrics;
}
