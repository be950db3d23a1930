using RankService.Ranking.Data;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Losses;

/// <summary>Every loss of the family, trained end to end by the real trainer, beats popularity on synthetic data.</summary>
public class LossTrainingTests
{
    private static readonly RatingDataset Data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 200, Items = 300, Seed = 7 });

    /// <summary>The synthetic configuration of the trainer tests; each case sets only what its loss needs.</summary>
    private static TrainingOptions Options(string loss) => new()
    {
        Loss = loss,
        Epochs = 20,
        BatchSize = 16,
        EmbeddingDim = 16,
        NegativesPerList = 50,
        WeightDecay = 1e-4,
        Patience = 0,
        Seed = 3,
    };

    public static TheoryData<string> Cases => [.. Configurations.Keys];

    // Adam's L2 decay is coupled to the gradient scale, so losses whose gradients are small (means over pairs,
    // NDCG-bounded values) want a smaller decay than per-list sums.
    private static readonly Dictionary<string, TrainingOptions> Configurations = new()
    {
        ["listnet"] = Options("listnet"),
        ["softmax"] = Options("softmax"),
        ["softmax, 100 sampled candidates"] = Options("softmax") with { SoftmaxSamples = 100 },
        ["approx-ndcg"] = Options("approx-ndcg") with { WeightDecay = 1e-5, LearningRate = 3e-2, Temperature = 0.5 },
        ["lambda-loss"] = Options("lambda-loss"),
        ["lambda-loss, lambdarank"] = Options("lambda-loss") with { LambdaWeighting = "lambdarank", LearningRate = 3e-2 },
        ["pairwise-hinge"] = Options("pairwise-hinge"),
        ["triplet, dot, semi-hard"] = Options("triplet"),
        // Hard negatives from the start collapse the towers (test NDCG@10 0.019 here, as FaceNet warns): only the
        // semi-hard and random rules are trained here; hard mining is tested for what it picks.
        ["triplet, distance, random"] = Options("triplet") with { TripletForm = "distance", TripletMining = "random" },
        ["triplet, dot, random"] = Options("triplet") with { TripletMining = "random" },
        ["hybrid of softmax and listnet"] = Options("hybrid") with { HybridFirst = "softmax", HybridSecond = "listnet" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_loss_trained_on_synthetic_data_beats_popularity_on_test_ndcg(string name)
    {
        TrainingResult result = new Trainer(Configurations[name]).Train(Data, TestData.TempFolder());
        double model = result.Test["NDCG@10"];
        double popularity = result.PopularityTest["NDCG@10"];
        Assert.True(model > 1.5 * popularity && model > popularity + 0.05,
            $"{name}: test NDCG@10 {model:F4} vs popularity {popularity:F4}; best epoch {result.BestEpoch}");
        Assert.All(result.History, h => Assert.True(double.IsFinite(h.TrainLoss)));
    }
}
