using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Training;

public class ColdUsersTrainingTests
{
    private static readonly RatingDataset Data = SyntheticTraining.Data;

    private static TrainingOptions Options(SplitProtocol protocol) => SyntheticTraining.Options(LossKind.Softmax) with { Protocol = protocol };

    /// <summary>The warm reference run, trained once for both tests.</summary>
    private static readonly Lazy<TrainingResult> Warm = new(() => new Trainer(Options(SplitProtocol.ColdUsersWarm)).Train(Data, TestData.TempFolder()));

    [Fact]
    public void Users_never_trained_on_are_folded_in_from_80_percent_of_their_items_and_rank_the_rest_better_than_popularity()
    {
        TrainingResult cold = new Trainer(Options(SplitProtocol.ColdUsers)).Train(Data, TestData.TempFolder());
        TrainingResult warm = Warm.Value;

        double coldNdcg = cold.Test["NDCG@10"], warmNdcg = warm.Test["NDCG@10"], popularity = cold.PopularityTest["NDCG@10"];
        Assert.True(coldNdcg > 1.3 * popularity && coldNdcg > popularity + 0.05, $"cold NDCG@10 {coldNdcg:F4} vs popularity {popularity:F4}");
        Assert.True(cold.Test["Recall@10"] > cold.PopularityTest["Recall@10"]);
        Assert.True(warmNdcg > popularity + 0.05, $"warm NDCG@10 {warmNdcg:F4} vs popularity {popularity:F4}");
        Assert.True(coldNdcg > 0.7 * warmNdcg, $"cold NDCG@10 {coldNdcg:F4} vs the same users trained in {warmNdcg:F4}");
    }

    [Fact]
    public void Folding_in_a_trained_users_own_items_recovers_a_vector_close_to_the_one_training_learned()
    {
        TrainingOptions options = Options(SplitProtocol.ColdUsersWarm);
        TrainingResult warm = Warm.Value;
        var split = (ColdUsersSplit)EvaluationProtocol.Split(Data, options.Protocol, options.SplitSeed);
        using LoadedCheckpoint best = CheckpointStore.Load(warm.BestCheckpoint);
        TwoTowerModel model = best.Model;
        UserFoldIn foldIn = UserFoldIn.FromTraining(model, options, split.TrainItems.Count(t => t.Length > 0));

        var cosines = new List<double>();
        foreach (int u in split.HeldOutUsers)
        {
            float[] trained;
            using (var scope = NewDisposeScope())
            using (no_grad())
            {
                trained = model.UserVectors(tensor(new long[] { u })).data<float>().ToArray();
            }
            FoldInItem[] items = [.. split.TrainItems[u].Select((item, i) => new FoldInItem(item, split.TrainRatings[u][i]))];
            float[] folded = foldIn.Fold(items).UserVector;
            cosines.Add(Cosine(trained, folded));
        }
        double median = cosines.Order().ElementAt(cosines.Count / 2);
        Assert.True(median > 0.8, $"median cosine between trained and folded-in vectors {median:F3}");
    }

    private static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.Sqrt(na * nb);
    }
}
