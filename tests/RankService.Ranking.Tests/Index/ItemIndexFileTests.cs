using RankService.Ranking.Checkpoints;
using RankService.Ranking.Index;
using RankService.Ranking.Model;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Index;

public class ItemIndexFileTests
{
    private static (string ManifestPath, CheckpointManifest Manifest) Checkpoint(TwoTowerModel model, string folder)
    {
        var ids = new CheckpointIds([.. Enumerable.Range(1, model.UserCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))], [.. Enumerable.Range(1, model.ItemCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))], [.. Enumerable.Repeat("", model.ItemCount)]);
        (string idsFile, string idsSha) = CheckpointStore.SaveIds(folder, ids);
        var manifest = new CheckpointManifest
        {
            Tag = "best",
            Epoch = 1,
            CreatedAt = DateTimeOffset.UnixEpoch,
            Dataset = new DatasetInfo("t", "synthetic", "", model.UserCount, model.ItemCount, 0),
            Model = model.Options,
            Training = new TrainingOptions(),
            Validation = new Dictionary<string, double>(),
            WeightsFile = "",
            WeightsSha256 = "",
            IdsFile = idsFile,
            IdsSha256 = idsSha,
        };
        string path = CheckpointStore.Save(folder, model, manifest);
        return (path, CheckpointStore.ReadVerified(path).Manifest);
    }

    private static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "rankservice-index-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    [Fact]
    public void A_saved_index_loads_verified_and_answers_as_the_one_that_was_built()
    {
        using TwoTowerModel model = ItemIndexTests.DotModel(users: 30, items: 400, seed: 21);
        var scorer = new PrecomputedScorer(model);
        (string path, CheckpointManifest manifest) = Checkpoint(model, TempFolder());
        (ItemIndex built, ItemIndexManifest saved) = ItemIndexFile.BuildAndSave(path, manifest, scorer, seen: null, new ItemIndexSettings { MinCandidates = 16 });
        using (built)
        {
            Assert.Equal(manifest.WeightsSha256, saved.WeightsSha256);
            Assert.Equal(30, saved.RecallUsers);
            Assert.InRange(saved.RecallAt10, 0, 1);
            (ItemIndex loaded, ItemIndexManifest read) = ItemIndexFile.LoadVerified(path, manifest, scorer, new ItemIndexSettings { MinCandidates = 16 });
            using (loaded)
            {
                Assert.Equal(saved, read);
                int[] a = new int[10], b = new int[10];
                var scores = new float[400];
                for (int user = 0; user < 30; user++)
                {
                    Assert.Equal(built.TopK(scorer, user, 10, null, a, scores), loaded.TopK(scorer, user, 10, null, b, scores));
                    Assert.Equal(a, b);
                }
            }
        }
    }

    [Fact]
    public void A_corrupt_missing_or_stale_index_is_refused_with_what_is_wrong()
    {
        using TwoTowerModel model = ItemIndexTests.DotModel(users: 5, items: 100, seed: 22);
        var scorer = new PrecomputedScorer(model);
        (string path, CheckpointManifest manifest) = Checkpoint(model, TempFolder());
        var settings = new ItemIndexSettings();
        Assert.Contains("does not exist", Assert.Throws<CheckpointException>(() => ItemIndexFile.LoadVerified(path, manifest, scorer, settings)).Message, StringComparison.Ordinal);

        (ItemIndex index, ItemIndexManifest saved) = ItemIndexFile.BuildAndSave(path, manifest, scorer, null, settings);
        index.Dispose();
        string file = Path.Combine(Path.GetDirectoryName(path)!, saved.File);
        byte[] bytes = File.ReadAllBytes(file);
        bytes[^1] ^= 0x01;
        File.WriteAllBytes(file, bytes);
        Assert.Contains("corrupt or truncated", Assert.Throws<CheckpointException>(() => ItemIndexFile.LoadVerified(path, manifest, scorer, settings)).Message, StringComparison.Ordinal);

        Assert.Contains("other weights", Assert.Throws<CheckpointException>(() =>
            ItemIndexFile.LoadVerified(path, manifest with { WeightsSha256 = new string('0', 64) }, scorer, settings)).Message, StringComparison.Ordinal);

        File.Delete(file);
        Assert.Contains("is missing", Assert.Throws<CheckpointException>(() => ItemIndexFile.LoadVerified(path, manifest, scorer, settings)).Message, StringComparison.Ordinal);
    }
}
