extern alias cli;

using System.CommandLine;
using RankService.Ranking.Losses;
using RankService.Ranking.Splits;
using cli::RankService.Cli;
using RankService.Ranking.Tests.Cli;

namespace RankService.Api.Tests;

/// <summary><c>rankservice sweep --service</c> against a host on Kestrel: real HTTP, real queue, real training.</summary>
public sealed class SweepAsJobsTests
{
    private static (int Exit, string Output, string Error) Sweep(params string[] args)
    {
        var root = new RootCommand();
        root.Subcommands.Add(SweepCommand.Create());
        return CliRunner.Run(root, ["sweep", .. args]);
    }

    [Fact]
    public async Task Sweep_on_a_service_runs_every_configuration_and_seed_as_a_job_and_writes_their_leaderboard()
    {
        await using var host = new ApiHost();
        Uri service = host.StartOnKestrel();
        string results = Path.Combine(ApiHost.TempFolder(), "RESULTS.md");

        (int exit, string output, string error) = Sweep("--service", service.ToString(), "--api-key", ApiHost.TestKey,
            "--data", "synthetic", "--protocol", "recbole", "--seeds", "1,2", "--loss", "softmax", "--softmax-reduction", "sum",
            "--weight-decay", "1e-4,1e-3", "--epochs", "2", "--embedding-dim", "8", "--batch-size", "32", "--poll-seconds", "0.2",
            "--results", results);

        Assert.True(exit == 0, error + output);
        Assert.Contains("2 configurations x 2 seeds as jobs", output, StringComparison.Ordinal);
        string table = File.ReadAllText(results);
        Assert.Contains("sweep run as jobs on", table, StringComparison.Ordinal);
        Assert.Contains("--api-key *** --data synthetic", table, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiHost.TestKey, table, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiHost.TestKey, output, StringComparison.Ordinal);
        string[] rows = table.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2])).ToArray();
        Assert.Equal(3, rows.Length); // two configurations and the jobs' popularity baseline
        Assert.Single(rows, r => r.Contains("--weight-decay 0.001 ", StringComparison.Ordinal) && r.Contains("| 2 |", StringComparison.Ordinal));
        Assert.Single(rows, r => r.Contains("| popularity |", StringComparison.Ordinal));

        // The service holds the four jobs, each with the options the sweep asked for.
        using HttpClient client = host.CreateClient();
        JobPage page = (await client.GetFromJsonAsync<JobPage>("/jobs?pageSize=50", ApiHost.Json))!;
        Assert.Equal(4, page.Total);
        Assert.All(page.Items, j =>
        {
            Assert.Equal(JobState.Succeeded, j.State);
            Assert.Equal(SplitProtocol.RecBole, j.Options.Protocol);
            Assert.Equal(SoftmaxReduction.Sum, j.Options.SoftmaxReduction);
            Assert.Equal(8, j.Options.EmbeddingDim);
            Assert.NotNull(j.Test);
        });
        Assert.Equal([1, 1, 2, 2], page.Items.Select(j => j.Options.Seed).Order());
        Assert.Equal([1e-4, 1e-4, 1e-3, 1e-3], page.Items.Select(j => j.Options.WeightDecay).Order());
        Assert.All(page.Items, j => Assert.Contains(j.Id, table, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_configuration_the_service_refuses_stops_the_sweep_with_its_problem_details_and_no_job_left_queued()
    {
        await using var host = new ApiHost();
        Uri service = host.StartOnKestrel();

        (int exit, _, string error) = Sweep("--service", service.ToString(), "--api-key", ApiHost.TestKey,
            "--data", "no-such-set", "--seeds", "1", "--epochs", "2", "--poll-seconds", "0.2");

        Assert.Equal(2, exit);
        Assert.Contains("POST /jobs refused configuration 1 seed 1: 400", error, StringComparison.Ordinal);
        Assert.Contains("no-such-set", error, StringComparison.Ordinal);

        (exit, _, error) = Sweep("--service", service.ToString(), "--data", "synthetic", "--seeds", "1", "--epochs", "2", "--baselines", "ease");
        Assert.Equal(2, exit);
        Assert.Contains("leave them out with --service", error, StringComparison.Ordinal);

        (exit, _, error) = Sweep("--service", "ftp://example", "--data", "synthetic");
        Assert.Equal(2, exit);
        Assert.Contains("--service must be the service's http(s) base URL", error, StringComparison.Ordinal);
    }
}
