using System.CommandLine;
using System.Text.Json;
using RankService.Cli;
using RankService.Ranking.Data;

namespace RankService.Ranking.Tests.Cli;

[Collection(nameof(ConsoleTests))]
public class TrainCommandTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(TrainCommand.Create());
        TextWriter stdout = Console.Out, stderr = Console.Error;
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            int exit = root.Parse(args).Invoke();
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

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
    public void Invalid_options_and_missing_data_fail_with_a_message_saying_what_to_fix()
    {
        (int exit, _, string error) = Run("train", "--data", "synthetic", "--loss", "lambdamart", "--epochs", "0");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown loss 'lambdamart'", error, StringComparison.Ordinal);
        Assert.Contains("Epochs must be between 1 and 10000", error, StringComparison.Ordinal);

        string empty = TestData.TempFolder();
        File.WriteAllText(Path.Combine(empty, "notes.txt"), "no ratings here");
        (exit, _, error) = Run("train", "--data", empty);
        Assert.Equal(3, exit);
        Assert.Contains("u.data", error, StringComparison.Ordinal);
    }
}

[CollectionDefinition(nameof(ConsoleTests), DisableParallelization = true)]
public sealed class ConsoleTests;
