using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Training;

public class TrainerTests
{
    private static readonly RatingDataset Data = SyntheticTraining.Data;

    private static TrainingOptions Options(LossKind loss = LossKind.ListMle) => SyntheticTraining.Options(loss);

    [Theory]
    [InlineData(LossKind.ListMle)]
    [InlineData(LossKind.PairwiseLogistic)]
    [InlineData(LossKind.Hybrid)]
    public void Training_on_synthetic_data_beats_popularity_on_test_ndcg_by_a_clear_margin(LossKind loss)
    {
        string run = TestData.TempFolder();
        TrainingResult result = new Trainer(Options(loss)).Train(Data, run);

        double model = result.Test["NDCG@10"];
        double popularity = result.PopularityTest["NDCG@10"];
        Assert.True(model > 1.5 * popularity && model > popularity + 0.05,
            $"{loss}: test NDCG@10 {model:F4} vs popularity {popularity:F4}");
        Assert.Equal(20, result.History.Count);
        Assert.InRange(result.BestEpoch, 1, 20);
        Assert.Equal(result.History.Max(h => h.Validation["NDCG@10"]), result.BestValidation["NDCG@10"]);
    }

    [Fact]
    public void Lazy_embedding_updates_train_a_model_that_beats_popularity_and_the_profile_times_every_phase()
    {
        var profile = new TrainingProfile();
        bool? sparse = null;
        TrainingResult result = new Trainer(Options() with { EmbeddingUpdates = EmbeddingUpdateMode.Lazy })
        {
            Profile = profile,
            BeforeBatch = (_, _, model) => sparse ??= model.SparseGradients,
        }.Train(Data, TestData.TempFolder());

        Assert.True(sparse, "the trainer built a model with dense embedding gradients");
        double model = result.Test["NDCG@10"];
        double popularity = result.PopularityTest["NDCG@10"];
        Assert.True(model > 1.5 * popularity && model > popularity + 0.05, $"lazy: test NDCG@10 {model:F4} vs popularity {popularity:F4}");
        Assert.Equal(20L * profile.BatchesPerEpoch, profile.TotalBatches);
        Assert.True(profile.EpochScored > 0 && profile.EpochSlots >= profile.EpochScored);
        foreach (string phase in TrainingProfile.Phases)
        {
            Assert.True(profile[phase] > 0, $"{phase} took no time");
        }
    }

    [Fact]
    public void Training_under_the_recbole_protocol_beats_popularity_and_reports_recall_and_precision()
    {
        TrainingOptions options = Options() with { Protocol = SplitProtocol.RecBole, Epochs = 10, WeightDecay = 1e-3 };
        TrainingResult result = new Trainer(options).Train(Data, TestData.TempFolder());

        double model = result.Test["NDCG@10"];
        double popularity = result.PopularityTest["NDCG@10"];
        Assert.True(model > popularity + 0.05, $"recbole: test NDCG@10 {model:F4} vs popularity {popularity:F4}");
        Assert.True(result.Test["Recall@10"] > result.PopularityTest["Recall@10"]);
        Assert.InRange(result.Test["Precision@10"], 0, 1);
    }

    [Fact]
    public void A_run_leaves_verifiable_best_and_last_checkpoints_and_tensorboard_events()
    {
        string run = TestData.TempFolder();
        TrainingResult result = new Trainer(Options() with { Epochs = 3, Loss = LossKind.Hybrid }).Train(Data, run);

        using LoadedCheckpoint best = CheckpointStore.Load(result.BestCheckpoint);
        Assert.Equal(result.BestEpoch, best.Manifest.Epoch);
        Assert.Equal(result.Test["NDCG@10"], best.Manifest.Test!["NDCG@10"]);
        Assert.Equal(Data.Fingerprint, best.Manifest.Dataset.Fingerprint);
        Assert.Equal(Data.Items.Ids, best.Ids.ItemIds);
        Assert.NotNull(CheckpointStore.LoadSeen(result.BestCheckpoint, best.Manifest));
        using LoadedCheckpoint last = CheckpointStore.Load(result.LastCheckpoint);
        Assert.Equal(3, last.Manifest.Epoch);

        Assert.All(result.History, h => Assert.True(h.LossParts.ContainsKey("listmle") && h.LossParts.ContainsKey("pairwise-logistic")));
        string events = Assert.Single(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories));
        byte[] bytes = File.ReadAllBytes(events);
        foreach (string tag in new[] { "train/loss", "train/loss_listmle", "val/NDCG@10", "val/HR@10", "val/MRR", "train/learning_rate", "train/epoch_seconds", "test/NDCG@10" })
        {
            Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(tag)) >= 0, $"TensorBoard events lack {tag}");
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_run()
    {
        TrainingOptions options = Options() with { Epochs = 2 };
        TrainingResult a = new Trainer(options).Train(Data, TestData.TempFolder());
        TrainingResult b = new Trainer(options).Train(Data, TestData.TempFolder());
        Assert.Equal(a.History.Select(h => h.TrainLoss), b.History.Select(h => h.TrainLoss));
        Assert.Equal(a.Test["NDCG@10"], b.Test["NDCG@10"]);
    }

    [Fact]
    public void Cancelling_stops_the_run_and_keeps_the_best_checkpoint_so_far()
    {
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAfter(2, cancel);
        TrainingResult result = new Trainer(Options()).Train(Data, TestData.TempFolder(), progress, cancel.Token);
        Assert.True(result.Cancelled);
        Assert.Equal(2, result.History.Count);
        using LoadedCheckpoint best = CheckpointStore.Load(result.BestCheckpoint);
        Assert.Equal(result.BestEpoch, best.Manifest.Epoch);
        Assert.True(result.Test.ContainsKey("NDCG@10"));
    }

    [Fact]
    public void Invalid_options_are_refused_naming_each_field_and_its_range()
    {
        var options = new TrainingOptions { Loss = (LossKind)99, Epochs = 0, LearningRate = double.NaN, Device = (TrainingDevice)9, HiddenSizes = [0] };
        IReadOnlyDictionary<string, string> errors = options.Validate();
        Assert.Equal(new[] { "device", "epochs", "hiddenSizes", "learningRate", "loss" }, errors.Keys.Order(StringComparer.Ordinal));
        Assert.Contains("between 1 and 10000", errors["epochs"], StringComparison.Ordinal);
        Assert.Contains("listmle", errors["loss"], StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new Trainer(options));
    }

    private sealed class CancelAfter(int epochs, CancellationTokenSource cancel) : IProgress<EpochReport>
    {
        public void Report(EpochReport value)
        {
            if (value.Epoch >= epochs)
            {
                cancel.Cancel();
            }
        }
    }
}
