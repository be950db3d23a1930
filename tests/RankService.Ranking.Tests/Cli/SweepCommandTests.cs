using System.CommandLine;
using RankService.Cli;
using RankService.Ranking.Training;

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
    public void Any_training_option_given_as_a_comma_list_is_swept_over_the_grid_of_all_of_them()
    {
        string folder = TestData.TempFolder();
        string results = Path.Combine(folder, "RESULTS.md");

        (int exit, string output, string error) = Run("sweep", "--data", "synthetic", "--seeds", "1", "--loss", "lambda-loss",
            "--lambda-mu", "1,5", "--lambda-weighting", "ndcg-loss2++,LambdaRank", "--epochs", "1", "--embedding-dim", "4", "--negatives", "10",
            "--batch-size", "64", "--no-item-bias", "--out", folder, "--results", results);

        Assert.True(exit == 0, error);
        Assert.Contains("4 configurations x 1 seeds", output, StringComparison.Ordinal);
        string[] rows = File.ReadAllText(results).Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2])).ToArray();
        Assert.Equal(4, rows.Length);
        foreach (string mu in new[] { "1", "5" })
        {
            foreach (string weighting in new[] { "ndcg-loss2++", "lambdarank" })
            {
                Assert.Single(rows, r => r.Contains($"--lambda-mu {mu} ", StringComparison.Ordinal) && r.Contains($"--lambda-weighting {weighting}", StringComparison.Ordinal)
                    && r.Contains("--item-bias false", StringComparison.Ordinal));
            }
        }

        (exit, _, error) = Run("sweep", "--data", "synthetic", "--protocol", "temporal,recbole");
        Assert.Equal(2, exit);
        Assert.Contains("--protocol and --split-seed take one value in a sweep", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_service_sweeps_job_body_names_every_training_option_the_api_takes_but_the_device()
    {
        var options = new TrainingOptions { LambdaMu = 3, HiddenSizes = [8] };

        Dictionary<string, object?> body = ServiceSweep.Body("synthetic", options);

        string[] expected = [.. TrainingOptionCatalog.Options.Where(o => !o.HostOnly && o.JsonName != "device").Select(o => o.JsonName), "dataset"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), body.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(3.0, body["lambdaMu"]);
        Assert.Equal("synthetic", body["dataset"]);
    }

    [Fact]
    public void A_service_sweeps_search_space_holds_the_options_that_vary_and_the_seeds_and_the_rest_are_fields()
    {
        var baseline = new TrainingOptions { EmbeddingDim = 8 };
        TrainingOptions[] grid = [baseline with { WeightDecay = 1e-4, Epochs = 2 }, baseline with { WeightDecay = 1e-3, Epochs = 2 },
            baseline with { WeightDecay = 1e-4, Epochs = 3 }, baseline with { WeightDecay = 1e-3, Epochs = 3 }];

        Client.JobSubmission search = ServiceSweep.Search("synthetic", grid, [1, 2], trials: 0, searchSeed: 9);

        Client.SearchSubmission spec = search.Search!;
        Assert.Equal(["epochs", "seed", "weightDecay"], spec.Space.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal("[0.0001,0.001]", spec.Space["weightDecay"]!.ToJsonString());
        Assert.Equal("[2,3]", spec.Space["epochs"]!.ToJsonString());
        Assert.Equal("[1,2]", spec.Space["seed"]!.ToJsonString());
        Assert.Equal(8, spec.Trials); // every configuration x seed
        Assert.Equal(9, spec.Seed);
        Assert.Equal("synthetic", search.Dataset);
        Assert.False(search.Options.ContainsKey("weightDecay") || search.Options.ContainsKey("epochs") || search.Options.ContainsKey("seed"));
        Assert.Equal(8, search.Options["embeddingDim"]!.GetValue<int>());
        Assert.False(search.Options.ContainsKey("device"));

        Assert.Equal(3, ServiceSweep.Search("synthetic", grid, [1, 2], trials: 3, searchSeed: 0).Search!.Trials);
        Assert.Equal(8, ServiceSweep.Search("synthetic", grid, [1, 2], trials: 50, searchSeed: 0).Search!.Trials);

        // One configuration and one seed: a search of one trial over that seed.
        Client.JobSubmission single = ServiceSweep.Search("synthetic", [baseline], [4], trials: 0, searchSeed: 0);
        Assert.Equal("{\"seed\":[4]}", single.Search!.Space.ToJsonString());
        Assert.Equal(1, single.Search.Trials);
        Assert.Equal(8, single.Options["embeddingDim"]!.GetValue<int>());
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
