using RankService.Ranking.Checkpoints;
using RankService.Ranking.Model;
using RankService.Ranking.Training;
using TorchSharp;

namespace RankService.Ranking.Tests.Checkpoints;

public class CheckpointStoreTests
{
    private static (string Folder, string Manifest, TwoTowerModel Model) SaveOne(ScoringHead head = ScoringHead.Dot)
    {
        string folder = TestData.TempFolder();
        torch.manual_seed(5);
        var options = new ModelOptions { Head = head, EmbeddingDim = 4, HiddenSizes = head == ScoringHead.Dot ? [] : [6] };
        var model = new TwoTowerModel(3, 5, options);
        (string idsFile, string idsSha) = CheckpointStore.SaveIds(folder, new CheckpointIds(["11", "12", "13"], ["101", "102", "103", "104", "105"], ["a", "b", "c", "d", "é, e"]));
        var manifest = new CheckpointManifest
        {
            Tag = "best",
            Epoch = 3,
            CreatedAt = DateTimeOffset.UnixEpoch,
            Dataset = new DatasetInfo("test", "Csv", "abc", 3, 5, 9),
            Model = options,
            Training = new TrainingOptions { Head = head },
            Validation = new Dictionary<string, double> { ["NDCG@10"] = 0.25 },
            WeightsFile = "",
            WeightsSha256 = "",
            IdsFile = idsFile,
            IdsSha256 = idsSha,
        };
        return (folder, CheckpointStore.Save(folder, model, manifest), model);
    }

    private static float[] ScoreAll(TwoTowerModel model)
    {
        using var scorer = new ModelScorer(model);
        var scores = new float[3 * 5];
        scorer.Score([0, 1, 2], scores);
        return scores;
    }

    [Theory]
    [InlineData(ScoringHead.Dot)]
    [InlineData(ScoringHead.ConcatMlp)]
    public void A_saved_checkpoint_loads_into_a_model_that_scores_identically(ScoringHead head)
    {
        (_, string manifestPath, TwoTowerModel model) = SaveOne(head);
        using (model)
        using (LoadedCheckpoint loaded = CheckpointStore.Load(manifestPath))
        {
            Assert.Equal(ScoreAll(model), ScoreAll(loaded.Model));
            Assert.Equal(3, loaded.Manifest.Epoch);
            Assert.Equal(0.25, loaded.Manifest.Validation["NDCG@10"]);
            Assert.Equal(head, loaded.Manifest.Training.Head);
            Assert.Equal(["101", "102", "103", "104", "105"], loaded.Ids.ItemIds);
            Assert.Equal("é, e", loaded.Ids.Titles[4]);
        }
    }

    [Fact]
    public void Saving_again_replaces_the_weights_and_leaves_no_temporary_or_stale_files()
    {
        (string folder, string manifestPath, TwoTowerModel model) = SaveOne();
        using (model)
        {
            CheckpointManifest first = CheckpointStore.ReadVerified(manifestPath).Manifest;
            using (torch.no_grad())
            {
                model.parameters().First().add_(1.0f);
            }
            CheckpointStore.Save(folder, model, first with { Epoch = 4 });
            CheckpointManifest second = CheckpointStore.ReadVerified(manifestPath).Manifest;
            Assert.NotEqual(first.WeightsSha256, second.WeightsSha256);
            Assert.Equal(4, second.Epoch);
            Assert.Single(Directory.GetFiles(folder, "best-*.bin"));
            Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        }
    }

    [Fact]
    public void Truncated_weights_are_refused_with_a_clear_error()
    {
        (string folder, string manifestPath, TwoTowerModel model) = SaveOne();
        model.Dispose();
        string weights = Directory.GetFiles(folder, "best-*.bin").Single();
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<CheckpointException>(() => CheckpointStore.Load(manifestPath));
        Assert.Contains("corrupt or truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_corrupt_manifest_or_missing_file_is_refused_with_a_clear_error()
    {
        (string folder, string manifestPath, TwoTowerModel model) = SaveOne();
        model.Dispose();
        File.Delete(Directory.GetFiles(folder, "ids-*.json").Single());
        Assert.Contains("is missing", Assert.Throws<CheckpointException>(() => CheckpointStore.Load(manifestPath)).Message, StringComparison.Ordinal);

        File.WriteAllText(manifestPath, "{ \"tag\": \"best\", ");
        Assert.Contains("not valid JSON", Assert.Throws<CheckpointException>(() => CheckpointStore.Load(manifestPath)).Message, StringComparison.Ordinal);
    }
}

public class SeenItemsTests
{
    [Fact]
    public void Seen_items_hold_every_rated_item_per_user_and_round_trip_through_a_checkpoint_folder()
    {
        var data = TestData.FromTuples((1, 10, 4, 1), (1, 30, 5, 2), (1, 20, 3, 3), (2, 20, 1, 1));
        SeenItems seen = SeenItems.FromDataset(data);
        Assert.Equal(new[] { 0, 1, 2 }, seen.For(0).ToArray());
        Assert.Equal(new[] { 1 }, seen.For(1).ToArray());

        string folder = TestData.TempFolder();
        (string file, string sha) = CheckpointStore.SaveSeen(folder, seen);
        var manifest = new CheckpointManifest
        {
            Tag = "x", Epoch = 1, CreatedAt = DateTimeOffset.UnixEpoch, Dataset = new DatasetInfo("t", "Csv", "f", 2, 3, 4),
            Model = new(), Training = new(), Validation = new Dictionary<string, double>(),
            WeightsFile = "", WeightsSha256 = "", IdsFile = "", IdsSha256 = "", SeenFile = file, SeenSha256 = sha,
        };
        SeenItems loaded = CheckpointStore.LoadSeen(Path.Combine(folder, "x.manifest.json"), manifest)!;
        Assert.Equal(seen.For(0).ToArray(), loaded.For(0).ToArray());
        Assert.Equal(seen.For(1).ToArray(), loaded.For(1).ToArray());
    }
}
