using System.CommandLine;
using System.Text.Json;
using RankService.Cli;
using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Cli;

[Collection(nameof(ConsoleTests))]
public class TrainCommandTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args) => CliRunner.Run(TrainCommand.Create(), args);

    [Fact]
    public void Train_reads_a_movielens_folder_prints_progress_and_the_comparison_table_and_writes_result_json()
    {
        string data = Path.Combine(TestData.TempFolder(), "ml-100k");
        SyntheticMovieLens.Write(SyntheticMovieLens.Generate(new SyntheticOptions { Users = 60, Items = 80, Seed = 4 }), data, MovieLensFormat.Ml100k);
        string runs = TestData.TempFolder();

        (int exit, string output, string error) = Run("train", "--data", data, "--out", runs, "--epochs", "2", "--embedding-dim", "8", "--negatives", "20", "--batch-size", "16");

        Assert.True(exit == 0, error);
        Assert.Contains("ml-100k: 60 users", output, StringComparison.Ordinal);
        Assert.Contains("epoch   1/2", output, StringComparison.Ordinal);
        Assert.Contains("epoch   2/2", output, StringComparison.Ordinal);
        Assert.Contains("popularity, test", output, StringComparison.Ordinal);
        string result = Directory.GetFiles(runs, "result.json", SearchOption.AllDirectories).Single();
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(result));
        Assert.InRange(json.RootElement.GetProperty("test").GetProperty("NDCG@10").GetDouble(), 0, 1);
        Assert.Equal(2, json.RootElement.GetProperty("epochsRun").GetInt32());
    }

    [Fact]
    public void Every_loss_option_reaches_the_trainer_from_the_command_line()
    {
        string data = Path.Combine(TestData.TempFolder(), "ml-100k");
        SyntheticMovieLens.Write(SyntheticMovieLens.Generate(new SyntheticOptions { Users = 40, Items = 60, Seed = 5 }), data, MovieLensFormat.Ml100k);
        string runs = TestData.TempFolder();

        (int exit, _, string error) = Run("train", "--data", data, "--out", runs, "--epochs", "1", "--embedding-dim", "8", "--negatives", "10",
            "--loss", "hybrid", "--hybrid-first", "softmax", "--hybrid-second", "triplet", "--alpha", "0.7", "--softmax-samples", "20", "--softmax-reduction", "sum",
            "--triplet-form", "distance", "--triplet-mining", "hard", "--triplet-threshold", "3", "--margin", "0.5",
            "--temperature", "0.3", "--lambda-weighting", "lambdarank", "--lambda-mu", "2", "--lambda-k", "5");

        Assert.True(exit == 0, error);
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(runs, "result.json", SearchOption.AllDirectories).Single()));
        JsonElement options = json.RootElement.GetProperty("options");
        Assert.Equal("softmax", options.GetProperty("hybridFirst").GetString());
        Assert.Equal("triplet", options.GetProperty("hybridSecond").GetString());
        Assert.Equal(20, options.GetProperty("softmaxSamples").GetInt32());
        Assert.Equal("sum", options.GetProperty("softmaxReduction").GetString());
        Assert.Equal("hard", options.GetProperty("tripletMining").GetString());
        Assert.Equal(0.5, options.GetProperty("margin").GetDouble());
        Assert.Equal(0.3, options.GetProperty("temperature").GetDouble());
        Assert.Equal("lambdarank", options.GetProperty("lambdaWeighting").GetString());
        Assert.Equal(5, options.GetProperty("lambdaK").GetInt32());

        (exit, _, error) = Run("train", "--data", "synthetic", "--loss", "hybrid", "--hybrid-first", "hybrid", "--triplet-mining", "easy");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown hybridFirst 'hybrid'", error, StringComparison.Ordinal);
        Assert.Contains("Unknown tripletMining 'easy'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_take_their_catalog_names_and_the_older_names_and_switches_take_a_no_form()
    {
        string runs = TestData.TempFolder();

        (int exit, _, string error) = Run("train", "--data", "synthetic", "--out", runs, "--epochs", "1", "--embedding-dim", "4",
            "--learning-rate", "0.02", "--negatives-per-list", "10", "--hidden-sizes", "6,5", "--gradient-clip-norm", "2", "--no-item-bias",
            "--lambda-weighting", "LAMBDARANK");

        Assert.True(exit == 0, error);
        using JsonDocument json = JsonDocument.Parse(File.ReadAllText(Directory.GetFiles(runs, "result.json", SearchOption.AllDirectories).Single()));
        JsonElement options = json.RootElement.GetProperty("options");
        Assert.Equal(0.02, options.GetProperty("learningRate").GetDouble());
        Assert.Equal(10, options.GetProperty("negativesPerList").GetInt32());
        Assert.Equal([6, 5], options.GetProperty("hiddenSizes").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(2, options.GetProperty("gradientClipNorm").GetDouble());
        Assert.False(options.GetProperty("itemBias").GetBoolean());
        Assert.Equal("lambdarank", options.GetProperty("lambdaWeighting").GetString());

        (exit, _, error) = Run("train", "--data", "synthetic", "--lr", "abc", "--hidden", "64,x", "--item-bias", "maybe");
        Assert.Equal(2, exit);
        Assert.Contains("--learning-rate: learningRate takes a number; 'abc' is not one.", error, StringComparison.Ordinal);
        Assert.Contains("'x' is not one", error, StringComparison.Ordinal);
        Assert.Contains("itemBias takes true or false", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_options_and_missing_data_fail_with_a_message_saying_what_to_fix()
    {
        (int exit, _, string error) = Run("train", "--data", "synthetic", "--loss", "lambdamart", "--epochs", "0");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown loss 'lambdamart'", error, StringComparison.Ordinal);
        Assert.Contains("epochs must be between 1 and 10000", error, StringComparison.Ordinal);

        string empty = TestData.TempFolder();
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "no ratings here");
        (exit, _, error) = Run("train", "--data", empty);
        Assert.Equal(3, exit);
        Assert.Contains("u.data", error, StringComparison.Ordinal);
    }
}

[CollectionDefinition(nameof(ConsoleTests), DisableParallelization = true)]
public sealed class ConsoleTests;
