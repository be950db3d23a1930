using System.CommandLine;
using RankService.Cli;

namespace RankService.Ranking.Tests.Cli;

[Collection(nameof(ConsoleTests))]
public class SweepCommandTests
{
    private static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(SweepCommand.Create());
        root.Subcommands.Add(BaselineCommand.Create());
        return CliRunner.Run(root, args);
    }

    [Fact]
    public void Sweep_runs_each_configuration_per_seed_and_appends_a_leaderboard_with_its_command_line()
    {
        string folder = TestData.TempFolder();
        string results = Path.Combine(folder, "RESULTS.md");
        File.WriteAllText(results, "# Benchmark results\n");

        (int exit, string output, string error) = Run("sweep", "--data", "synthetic", "--protocol", "recbole", "--seeds", "1,2",
            "--weight-decay", "1e-4,1e-3", "--epochs", "2", "--embedding-dim", "8", "--negatives", "20", "--batch-size", "32",
            "--baselines", "popularity,ease", "--out", folder, "--results", results);

        Assert.True(exit == 0, error);
        Assert.Contains("2 configurations x 2 seeds", output, StringComparison.Ordinal);
        string table = File.ReadAllText(results);
        Assert.StartsWith("# Benchmark results", table, StringComparison.Ordinal);
        Assert.Contains("rankservice sweep --data synthetic --protocol recbole --seeds 1,2", table, StringComparison.Ordinal);
        Assert.Contains("| NDCG@10 | Recall@10 | MRR@10 | HR@10 | Precision@10 |", table, StringComparison.Ordinal);
        string[] rows = table.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2])).ToArray();
        Assert.Equal(4, rows.Length); // popularity, ease, two configurations
        Assert.Single(rows, r => r.Contains("--weight-decay 0.0001 ", StringComparison.Ordinal) && r.Contains("| 2 |", StringComparison.Ordinal));
        Assert.Single(rows, r => r.Contains("| ease |", StringComparison.Ordinal) && r.Contains("lambda ", StringComparison.Ordinal));
    }

    [Fact]
    public void Sweep_with_an_ease_ensemble_adds_a_blended_row_per_configuration_with_its_weights()
    {
        string folder = TestData.TempFolder();
        string results = Path.Combine(folder, "RESULTS.md");

        (int exit, string output, string error) = Run("sweep", "--data", "synthetic", "--protocol", "recbole", "--seeds", "1,2",
            "--epochs", "2", "--embedding-dim", "8", "--negatives", "20", "--batch-size", "32", "--ensemble", "ease",
            "--out", folder, "--results", results);

        Assert.True(exit == 0, error);
        Assert.Contains("ensemble: EASE lambda ", output, StringComparison.Ordinal);
        Assert.Equal(2, output.Split('\n').Count(l => l.Contains("+ ease seed", StringComparison.Ordinal)));
        string[] rows = File.ReadAllText(results).Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2])).ToArray();
        Assert.Equal(2, rows.Length);
        string blended = Assert.Single(rows, r => r.Contains("| two-tower + ease |", StringComparison.Ordinal));
        Assert.Contains("two-tower weight per seed ", blended, StringComparison.Ordinal);
        Assert.Contains("| 2 |", blended, StringComparison.Ordinal);

        (exit, _, error) = Run("sweep", "--data", "synthetic", "--ensemble", "svd");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown --ensemble 'svd'. Use none or ease.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Sweep_and_baseline_refuse_bad_options_naming_what_to_fix()
    {
        (int exit, _, string error) = Run("sweep", "--data", "synthetic", "--protocol", "random", "--lr", "0.01,abc");
        Assert.Equal(2, exit);
        Assert.Contains("'abc' is not one", error, StringComparison.Ordinal);

        (exit, _, error) = Run("sweep", "--data", "synthetic", "--protocol", "random", "--baselines", "svd");
        Assert.Equal(2, exit);
        Assert.Contains("Unknown protocol 'random'", error, StringComparison.Ordinal);
        Assert.Contains("Unknown baseline 'svd'", error, StringComparison.Ordinal);

        (exit, _, error) = Run("baseline", "--data", "synthetic", "--model", "svd");
        Assert.Equal(2, exit);
        Assert.Contains("popularity, bpr, ease", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Baseline_prints_validation_and_test_metrics_of_the_chosen_model()
    {
        (int exit, string output, string error) = Run("baseline", "--data", "synthetic", "--model", "ease", "--protocol", "temporal", "--lambdas", "10,100");
        Assert.True(exit == 0, error);
        Assert.Contains("ease seed 42: val NDCG@10", output, StringComparison.Ordinal);
        Assert.Contains("| ease |", output, StringComparison.Ordinal);
    }
}
