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
    public async Task Sweep_on_a_service_runs_the_grid_and_seeds_as_one_search_job_and_writes_its_leaderboard()
    {
        await using var host = new ApiHost();
        Uri service = host.StartOnKestrel();
        string results = Path.Combine(ApiHost.TempFolder(), "RESULTS.md");

        (int exit, string output, string error) = Sweep("--service", service.ToString(), "--api-key", ApiHost.TestKey,
            "--data", "synthetic", "--protocol", "recbole", "--seeds", "1,2", "--loss", "softmax", "--softmax-reduction", "sum",
            "--weight-decay", "1e-4,1e-3", "--epochs", "2", "--embedding-dim", "8", "--batch-size", "32", "--poll-seconds", "0.2",
            "--sample-seed", "7", "--results", results);

        Assert.True(exit == 0, error + output);
        Assert.Contains("2 configurations x 2 seeds as one search job", output, StringComparison.Ordinal);
        string table = File.ReadAllText(results);
        Assert.Contains("sweep run as a search job on", table, StringComparison.Ordinal);
        Assert.Contains("--api-key *** --data synthetic", table, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiHost.TestKey, table, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiHost.TestKey, output, StringComparison.Ordinal);

        // The service holds one search over weightDecay x seed, its four trials with the options the sweep asked for.
        using HttpClient client = host.CreateClient();
        JobPage page = (await client.GetFromJsonAsync<JobPage>("/jobs?pageSize=50", ApiHost.Json))!;
        Assert.Equal(5, page.Total);
        JobView parent = Assert.Single(page.Items, j => j.Search is not null);
        Assert.Equal(JobState.Succeeded, parent.State);
        Assert.Equal(4, parent.Search!.Trials);
        Assert.Equal(7, parent.Search.Seed);
        Assert.Equal(["seed", "weightDecay"], parent.Search.Space.Keys.Order(StringComparer.Ordinal));
        JobView[] trials = [.. page.Items.Where(j => j.ParentId == parent.Id)];
        Assert.Equal(4, trials.Length);
        Assert.All(trials, j =>
        {
            Assert.Equal(JobState.Succeeded, j.State);
            Assert.Equal(SplitProtocol.RecBole, j.Options.Protocol);
            Assert.Equal(SoftmaxReduction.Sum, j.Options.SoftmaxReduction);
            Assert.Equal(8, j.Options.EmbeddingDim);
            Assert.Equal(2, j.Options.Epochs);
        });
        Assert.Equal([1, 1, 2, 2], trials.Select(j => j.Options.Seed).Order());
        Assert.Equal([1e-4, 1e-4, 1e-3, 1e-3], trials.Select(j => j.Options.WeightDecay).Order());

        // The printed and recorded table is the search's leaderboard: every trial, best validation NDCG@10 first, the pick marked.
        JobMetrics metrics = (await client.GetFromJsonAsync<JobMetrics>($"/jobs/{parent.Id}/metrics", ApiHost.Json))!;
        string[] rows = table.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal) && char.IsDigit(l[2])).ToArray();
        Assert.Equal(metrics.Leaderboard!.Select(e => e.JobId), rows.Select(r => r.Split('|')[2].Trim()));
        Assert.Equal(parent.BestTrial, metrics.Leaderboard![0].JobId);
        Assert.Single(rows, r => r.Contains("| yes |", StringComparison.Ordinal));
        Assert.StartsWith($"| 1 | {parent.BestTrial} |", rows[0], StringComparison.Ordinal);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{metrics.Leaderboard[0].ValidationNdcg10:F4}"), rows[0], StringComparison.Ordinal);
        Assert.Contains("Popularity baseline on the same split", table, StringComparison.Ordinal);
        Assert.Contains(table.Trim(), output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_search_the_service_refuses_stops_the_sweep_with_its_problem_details_and_no_job_left_queued()
    {
        await using var host = new ApiHost();
        Uri service = host.StartOnKestrel();

        (int exit, _, string error) = Sweep("--service", service.ToString(), "--api-key", ApiHost.TestKey,
            "--data", "no-such-set", "--seeds", "1", "--epochs", "2", "--poll-seconds", "0.2");

        Assert.Equal(2, exit);
        Assert.Contains("POST /jobs refused the search: 400", error, StringComparison.Ordinal);
        Assert.Contains("no-such-set", error, StringComparison.Ordinal);

        (exit, _, error) = Sweep("--service", service.ToString(), "--data", "synthetic", "--seeds", "1", "--epochs", "2", "--baselines", "ease");
        Assert.Equal(2, exit);
        Assert.Contains("leave them out with --service", error, StringComparison.Ordinal);

        (exit, _, error) = Sweep("--service", "ftp://example", "--data", "synthetic");
        Assert.Equal(2, exit);
        Assert.Contains("--service must be the service's http(s) base URL", error, StringComparison.Ordinal);
    }
}
