using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Training;

/// <summary>The synthetic data and trainer configuration on which every loss is held to beat popularity.</summary>
internal static class SyntheticTraining
{
    public static readonly RatingDataset Data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 200, Items = 300, Seed = 7 });

    public static TrainingOptions Options(LossKind loss = LossKind.ListMle) => new()
    {
        Loss = loss,
        Epochs = 20,
        BatchSize = 16,
        EmbeddingDim = 16,
        NegativesPerList = 50,
        // Adam's L2 decay is coupled to the gradient scale: a pairwise loss is a mean over pairs, so its gradients
        // are far smaller than ListMLE's per-list sum, and 1e-3 would swamp them. 1e-4 suits every loss here.
        WeightDecay = 1e-4,
        Patience = 0,
        Seed = 3,
    };
}
