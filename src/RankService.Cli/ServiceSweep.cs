using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RankService.Client;
using RankService.Ranking.Metrics;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary>
/// <c>sweep --service URL</c>: the grid × seeds becomes one search job (<c>POST /jobs</c> with <c>search</c>) on a running
/// RankService, through <see cref="RankServiceClient"/>: every option that varies across the grid (and the seed, when
/// there are several) is an axis of the search space, every other training option a field of the request
/// (<see cref="Body"/>), so the service's configured defaults cannot change a configuration; the device stays the
/// service's choice. The service draws the trials (seeded, none twice), its queue and workers train them, and the sweep
/// waits for the search and prints the leaderboard of <c>GET /jobs/{id}/metrics</c>.
/// </summary>
internal static class ServiceSweep
{
    /// <summary>
    /// Runs the search on the service behind <paramref name="client"/> (<paramref name="trials"/> configurations, 0 for
    /// every configuration × seed, drawn with <paramref name="searchSeed"/>); <paramref name="record"/> gets the
    /// leaderboard's Markdown and returns what to print. Returns the exit code.
    /// </summary>
    public static int Run(RankServiceClient client, string dataset, IReadOnlyList<TrainingOptions> grid, IReadOnlyList<int> seeds, int trials, int searchSeed,
        TimeSpan poll, Func<string, string> record, TextWriter output, TextWriter error)
    {
        JobSubmission submission = Search(dataset, grid, seeds, trials, searchSeed);
        Job parent;
        try
        {
            parent = client.SubmitJobAsync(submission).GetAwaiter().GetResult();
        }
        catch (RankServiceException e)
        {
            error.WriteLine($"POST /jobs refused the search: {Describe(e)}");
            return 2;
        }
        output.WriteLine($"search job {parent.Id}: {submission.Search!.Trials} trials over {submission.Search.Space.ToJsonString()}, trials {string.Join(", ", parent.Trials ?? [])}");

        string lastSeen = "";
        while (!parent.IsFinished)
        {
            Thread.Sleep(poll);
            parent = client.GetJobAsync(parent.Id).GetAwaiter().GetResult();
            string seen = Wire(parent.State);
            if (seen != lastSeen)
            {
                lastSeen = seen;
                output.WriteLine($"search job {parent.Id}: {seen}");
            }
        }

        JobMetrics metrics = client.GetJobMetricsAsync(parent.Id).GetAwaiter().GetResult();
        IReadOnlyList<SearchLeaderboardEntry> leaderboard = metrics.Leaderboard ?? [];
        JobMetrics? best = parent.BestTrial is { } bestId ? client.GetJobMetricsAsync(bestId).GetAwaiter().GetResult() : null;
        output.WriteLine(record(Markdown(parent, leaderboard, best)));
        int failures = 0;
        foreach (SearchLeaderboardEntry entry in leaderboard.Where(e => e.State != JobState.Succeeded))
        {
            failures++;
            Job trial = client.GetJobAsync(entry.JobId).GetAwaiter().GetResult();
            error.WriteLine($"trial {entry.JobId} ({Values(entry)}) did not succeed: {trial.Error ?? Wire(trial.State)}");
        }
        if (parent.State != JobState.Succeeded)
        {
            error.WriteLine($"search job {parent.Id} {Wire(parent.State)}: {parent.Error}");
            return 1;
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>
    /// The search request of a grid × seeds: each option whose value differs across <paramref name="grid"/> is an axis
    /// (its values in grid order), as is the seed when there are several; the rest are fields. A single configuration
    /// and seed is a search of one trial over the seed, so it still runs as a search.
    /// </summary>
    internal static JobSubmission Search(string dataset, IReadOnlyList<TrainingOptions> grid, IReadOnlyList<int> seeds, int trials, int searchSeed)
    {
        List<JsonObject> configs = [.. grid.Select(o => Fields(dataset, o))];
        var space = new JsonObject();
        foreach (string name in configs[0].Select(p => p.Key).ToList())
        {
            var values = new List<JsonNode?>();
            foreach (JsonObject config in configs)
            {
                if (!values.Any(v => JsonNode.DeepEquals(v, config[name])))
                {
                    values.Add(config[name]?.DeepClone());
                }
            }
            if (values.Count > 1)
            {
                space[name] = new JsonArray([.. values]);
            }
        }
        string seedName = TrainingOptionCatalog.Find(nameof(TrainingOptions.Seed))!.JsonName;
        if (seeds.Count > 1 || space.Count == 0)
        {
            space[seedName] = new JsonArray([.. seeds.Select(s => (JsonNode?)JsonValue.Create(s))]);
        }
        JsonObject options = configs[0];
        options[seedName] = seeds[0];
        foreach ((string name, _) in space)
        {
            options.Remove(name);
        }
        int all = grid.Count * seeds.Count;
        return new JobSubmission
        {
            Dataset = dataset,
            Options = options,
            Search = new SearchSubmission { Trials = trials > 0 ? Math.Min(trials, all) : all, Space = space, Seed = searchSeed },
        };
    }

    /// <summary>The search's leaderboard as a Markdown table (rank, trial, its values, validation and test NDCG@10), and the best trial's popularity baseline.</summary>
    internal static string Markdown(Job parent, IReadOnlyList<SearchLeaderboardEntry> leaderboard, JobMetrics? best)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Search job {parent.Id} ({Wire(parent.State)}): {leaderboard.Count} trials, best {parent.BestTrial ?? "none"}; sorted by validation NDCG@10 (the pick never looks at test).").AppendLine();
        text.AppendLine("| # | trial job | values | state | best epoch | val NDCG@10 | test NDCG@10 | picked |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (SearchLeaderboardEntry e in leaderboard)
        {
            text.AppendLine(c, $"| {(e.Rank is { } r ? r.ToString(c) : "-")} | {e.JobId} | {Values(e)} | {Wire(e.State)} | {e.BestEpoch} | {Number(e.ValidationNdcg10)} | {Number(e.TestNdcg10)} | {(e.Best ? "yes" : "")} |");
        }
        if (best?.PopularityTest is { } popularity && popularity.TryGetValue(MetricNames.Ndcg10, out double ndcg))
        {
            text.AppendLine().AppendLine(c, $"Popularity baseline on the same split (from trial {best.JobId}): test NDCG@10 {ndcg:F4}.");
        }
        return text.ToString();
    }

    private static string Number(double? value) => value is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";

    private static string Values(SearchLeaderboardEntry e) =>
        string.Join(", ", e.Values.Select(p => $"{p.Key} {p.Value.GetRawText()}"));

    /// <summary><see cref="Body"/> as JSON, written as the catalog's types write themselves; without the data set.</summary>
    private static JsonObject Fields(string dataset, TrainingOptions o)
    {
        Dictionary<string, object?> fields = Body(dataset, o);
        fields.Remove("dataset");
        return JsonSerializer.SerializeToNode(fields, Json)!.AsObject();
    }

    /// <summary>
    /// The <c>POST /jobs</c> fields of one configuration: the data set and every training option the API takes (from the
    /// catalog), so the service's configured defaults cannot change it; the device stays the service's choice.
    /// </summary>
    internal static Dictionary<string, object?> Body(string dataset, TrainingOptions o)
    {
        Dictionary<string, object?> body = TrainingOptionCatalog.ToFields(o);
        body.Remove(TrainingOptionCatalog.Find(nameof(TrainingOptions.Device))!.JsonName);
        body["dataset"] = dataset;
        return body;
    }

    /// <summary>The status, title, detail and each field error of a refused request, on one line.</summary>
    internal static string Describe(RankServiceException e) =>
        string.Join(" ", new[] { $"{(int)e.Status} {e.Title}", e.Detail }.Concat(e.Errors.SelectMany(p => p.Value)).Where(t => !string.IsNullOrEmpty(t)));

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static string Wire(JobState state) => state.ToString().ToLowerInvariant();

    /// <summary>The service's base address with the trailing slash relative paths need.</summary>
    internal static Uri BaseAddress(Uri service) =>
        service.AbsoluteUri.EndsWith('/') ? service : new Uri(service.AbsoluteUri + "/");
}
