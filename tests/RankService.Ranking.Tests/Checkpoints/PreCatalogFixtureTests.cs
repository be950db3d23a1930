using System.Text.Json;
using System.Text.Json.Nodes;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Checkpoints;

/// <summary>A checkpoint and resume state written by the code before the options catalog still load (Fixtures/README.md).</summary>
public class PreCatalogFixtureTests
{
    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Fixtures", "pre-catalog-run");

    private static string CopyOfFixture()
    {
        string run = TestData.TempFolder();
        string checkpoints = Path.Combine(run, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        foreach (string file in Directory.EnumerateFiles(Fixture))
        {
            if (!file.EndsWith(".md", StringComparison.Ordinal))
            {
                File.Copy(file, Path.Combine(checkpoints, Path.GetFileName(file)));
            }
        }
        return run;
    }

    [Fact]
    public void The_old_manifests_training_options_load_and_write_back_the_same_json()
    {
        string manifestPath = Path.Combine(Fixture, "best.manifest.json");
        JsonNode original = JsonNode.Parse(File.ReadAllText(manifestPath))!["training"]!;

        (CheckpointManifest manifest, _) = CheckpointStore.ReadVerified(manifestPath);

        Assert.Equal(LossKind.LambdaLoss, manifest.Training.Loss);
        Assert.Equal(3, manifest.Training.LambdaMu);
        Assert.Equal(10, manifest.Training.LambdaK);
        Assert.Equal([6], manifest.Training.HiddenSizes);
        Assert.Empty(manifest.Training.Validate());
        JsonNode written = JsonNode.Parse(JsonSerializer.Serialize(manifest.Training, CheckpointStore.Json))!;
        Assert.True(JsonNode.DeepEquals(original, written), $"before: {original.ToJsonString()}\nafter: {written.ToJsonString()}");
    }

    [Fact]
    public void The_old_best_checkpoint_loads_and_scores_its_validation_metrics_again()
    {
        using LoadedCheckpoint loaded = CheckpointStore.Load(Path.Combine(Fixture, "best.manifest.json"));
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions());
        Assert.Equal(loaded.Manifest.Dataset.Fingerprint, data.Fingerprint);

        UserSplit split = EvaluationProtocol.Split(data, loaded.Manifest.Training.Protocol, loaded.Manifest.Training.SplitSeed);
        using var scorer = new ModelScorer(loaded.Model);
        EvaluationResult validation = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, Trainer.Ks);

        Assert.Equal(loaded.Manifest.Validation["NDCG@10"], validation.Metrics["NDCG@10"], 6);
        Assert.Equal(loaded.Manifest.Validation["HR@10"], validation.Metrics["HR@10"], 6);
    }

    [Fact]
    public void The_old_resume_state_is_accepted_and_the_run_resumes_after_its_last_epoch()
    {
        string run = CopyOfFixture();
        (CheckpointManifest manifest, _) = CheckpointStore.ReadVerified(Path.Combine(Fixture, "best.manifest.json"));
        var log = new List<string>();

        // The same options: a resume state is refused for any change of what the run computes (epochs included).
        TrainingResult resumed = new Trainer(manifest.Training) { Log = log.Add }
            .Train(SyntheticMovieLens.Generate(new SyntheticOptions()), run);

        Assert.Equal(2, resumed.ResumedAfterEpoch);
        Assert.Contains(log, l => l.Contains("Resuming after epoch 2 of 2", StringComparison.Ordinal));
        Assert.Equal([1, 2], resumed.History.Select(h => h.Epoch));
        Assert.Equal(manifest.Validation["NDCG@10"], resumed.BestValidation["NDCG@10"], 9);
        Assert.InRange(resumed.Test["NDCG@10"], 0, 1);
    }
}
