using System.CommandLine;
using RankService.Cli;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Tests.Cli;
using RankService.Ranking.Training;
using RankService.Tests.Common;

namespace RankService.Ranking.Tests.Export;

[Collection(nameof(ConsoleTests))]
public class ExportEmbeddingsCommandTests
{
    private static readonly RatingDataset Data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 60, Items = 80, Seed = 5 });

    private static (int Exit, string Output, string Error) Run(params string[] args) => CliRunner.Run(ExportEmbeddingsCommand.Create(), args);

    private static string TrainRun(bool itemBias = true)
    {
        string run = TestData.TempFolder();
        new Trainer(new TrainingOptions { Epochs = 2, BatchSize = 16, EmbeddingDim = 8, NegativesPerList = 20, ItemBias = itemBias, Seed = 2 }).Train(Data, run);
        return run;
    }

    [Fact]
    public void Export_writes_csv_and_npy_with_raw_ids_that_match_the_model_vectors()
    {
        string run = TrainRun();
        string manifest = CheckpointStore.ManifestPath(Path.Combine(run, "checkpoints"), "best");
        string outFolder = Path.Combine(TestData.TempFolder(), "export");

        (int exit, string output, string error) = Run("export-embeddings", "--checkpoint", run, "--out", outFolder);

        Assert.True(exit == 0, error);
        Assert.Contains("users: 60 vectors of 8", output, StringComparison.Ordinal);
        Assert.Contains("items: 80 vectors of 8", output, StringComparison.Ordinal);
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(manifest);
        Assert.Equal(Data.Users.Ids, checkpoint.Ids.UserIds);
        foreach ((EmbeddingSide side, string name, int rows) in new[] { (EmbeddingSide.Users, "users", 60), (EmbeddingSide.Items, "items", 80) })
        {
            var csv = EmbeddingCsv.Parse(File.ReadAllText(Path.Combine(outFolder, name + ".csv")));
            Assert.Equal(rows, csv.Ids.Length);
            Assert.Equal(side == EmbeddingSide.Items, csv.Bias is not null);
            ModelVectors.AssertMatches(checkpoint, side, csv.Ids, i => csv.Rows[i], csv.Bias);

            NpyArray vectors = NpyArray.Read(File.ReadAllBytes(Path.Combine(outFolder, name + ".npy")));
            Assert.Equal([rows, 8], vectors.Shape);
            NpyArray ids = NpyArray.Read(File.ReadAllBytes(Path.Combine(outFolder, name + ".ids.npy")));
            Assert.Equal([rows], ids.Shape);
            float[] flat = vectors.Floats();
            float[]? bias = side == EmbeddingSide.Items ? NpyArray.Read(File.ReadAllBytes(Path.Combine(outFolder, "items.bias.npy"))).Floats() : null;
            ModelVectors.AssertMatches(checkpoint, side, ids.Longs(), i => flat[(i * 8)..((i + 1) * 8)], bias);
        }
        Assert.False(File.Exists(Path.Combine(outFolder, "users.bias.npy")));
    }

    [Fact]
    public void A_model_without_item_bias_exports_no_bias_column_or_file()
    {
        string run = TrainRun(itemBias: false);
        string outFolder = Path.Combine(TestData.TempFolder(), "export");
        (int exit, _, string error) = Run("export-embeddings", "--checkpoint", CheckpointStore.ManifestPath(Path.Combine(run, "checkpoints"), "best"), "--out", outFolder, "--side", "items");
        Assert.True(exit == 0, error);
        Assert.Null(EmbeddingCsv.Parse(File.ReadAllText(Path.Combine(outFolder, "items.csv"))).Bias);
        Assert.False(File.Exists(Path.Combine(outFolder, "items.bias.npy")));
        Assert.False(File.Exists(Path.Combine(outFolder, "users.csv")));
    }

    [Fact]
    public void Bad_options_and_a_missing_or_corrupt_checkpoint_fail_with_what_to_fix()
    {
        (int exit, _, string error) = Run("export-embeddings", "--checkpoint", "x", "--out", "y", "--format", "parquet", "--side", "both");
        Assert.Equal(2, exit);
        Assert.Contains("--format must be csv, npy or both; got 'parquet'", error, StringComparison.Ordinal);

        string missing = Path.Combine(TestData.TempFolder(), "none.manifest.json");
        (exit, _, error) = Run("export-embeddings", "--checkpoint", missing, "--out", TestData.TempFolder());
        Assert.Equal(3, exit);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);

        string run = TrainRun();
        string folder = Path.Combine(run, "checkpoints");
        string weights = Directory.GetFiles(folder, "best-*.bin").Single();
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..100]);
        string outFolder = Path.Combine(TestData.TempFolder(), "export");
        (exit, _, error) = Run("export-embeddings", "--checkpoint", run, "--out", outFolder);
        Assert.Equal(3, exit);
        Assert.Contains("corrupt or truncated", error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(outFolder));
    }
}
