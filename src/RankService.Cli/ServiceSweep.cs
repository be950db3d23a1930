using System.Text.Json;
using System.Text.Json.Nodes;
using RankService.Client;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary>
/// <c>sweep --service URL</c>: every configuration × seed becomes a <c>POST /jobs</c> on a running RankService (through
/// <see cref="RankServiceClient"/>), so the service's queue and workers (GPU ones included) train them; the sweep waits
/// for each job and builds the same leaderboard from the jobs' best validation and test metrics, plus the popularity
/// baseline the jobs report. Each request names every training option (<see cref="Body"/>), so the service's
/// configured defaults cannot change a configuration; the device stays the service's choice.
/// </summary>
internal static class ServiceSweep
{
    private sealed record Submitted(int Config, int Seed, string JobId);

    /// <summary>Runs the sweep on the service behind <paramref name="client"/>; returns the exit code.</summary>
    public static int Run(RankServiceClient client, string dataset, IReadOnlyList<TrainingOptions> grid, Func<TrainingOptions, string> describe, IReadOnlyList<int> seeds,
        TimeSpan poll, Func<IReadOnlyList<LeaderboardEntry>, string> table, TextWriter output, TextWriter error)
    {
        var submitted = new List<Submitted>();
        for (int c = 0; c < grid.Count; c++)
        {
            foreach (int seed in seeds)
            {
                Job created;
                try
                {
                    created = client.SubmitJobAsync(Submission(dataset, grid[c] with { Seed = seed })).GetAwaiter().GetResult();
                }
                catch (RankServiceException e)
                {
                    error.WriteLine($"POST /jobs refused configuration {c + 1} seed {seed}: {Describe(e)}");
                    foreach (Submitted s in submitted)
                    {
                        CancelQuietly(client, s.JobId); // do not leave half a sweep queued
                    }
                    return 2;
                }
                submitted.Add(new Submitted(c, seed, created.Id));
                output.WriteLine($"[{c + 1}/{grid.Count}] {describe(grid[c])} seed {seed}: job {created.Id}");
            }
        }

        var finished = new Dictionary<string, Job>();
        var lastSeen = new Dictionary<string, string>();
        while (finished.Count < submitted.Count)
        {
            foreach (Submitted s in submitted.Where(s => !finished.ContainsKey(s.JobId)))
            {
                Job job = client.GetJobAsync(s.JobId).GetAwaiter().GetResult();
                string seen = $"{Wire(job.State)} epoch {job.Progress.Epoch}";
                if (lastSeen.GetValueOrDefault(s.JobId) != seen)
                {
                    lastSeen[s.JobId] = seen;
                    output.WriteLine($"job {s.JobId} ({s.Config + 1}/{grid.Count}, seed {s.Seed}): {seen}");
                }
                if (job.IsFinished)
                {
                    finished[s.JobId] = job;
                }
            }
            if (finished.Count < submitted.Count)
            {
                Thread.Sleep(poll);
            }
        }

        var entries = new List<LeaderboardEntry>();
        int failures = 0;
        for (int c = 0; c < grid.Count; c++)
        {
            var entry = new LeaderboardEntry("two-tower", describe(grid[c]), [], [], []);
            foreach (Submitted s in submitted.Where(s => s.Config == c))
            {
                Job job = finished[s.JobId];
                if (job.State != JobState.Succeeded || job.Test is null)
                {
                    failures++;
                    error.WriteLine($"job {s.JobId} ({c + 1}/{grid.Count}, seed {s.Seed}) did not succeed: {job.Error ?? Wire(job.State)}");
                    continue;
                }
                entry.Validation.Add(Metrics(job.BestValidation));
                entry.Test.Add(Metrics(job.Test));
            }
            entry.Notes.Add("jobs " + string.Join(", ", submitted.Where(s => s.Config == c).Select(s => s.JobId)));
            if (entry.Test.Count > 0)
            {
                entries.Add(entry);
            }
        }
        if (submitted.FirstOrDefault(s => finished[s.JobId].State == JobState.Succeeded) is { } first)
        {
            // The popularity baseline every job evaluates on the same split (deterministic: one suffices).
            JobMetrics metrics = client.GetJobMetricsAsync(first.JobId).GetAwaiter().GetResult();
            if (metrics.PopularityTest is not null)
            {
                entries.Add(new LeaderboardEntry("popularity", "", [Metrics(metrics.PopularityValidation)],
                    [Metrics(metrics.PopularityTest)], [$"from job {first.JobId}"]));
            }
        }
        output.WriteLine(table(entries));
        return failures == 0 ? 0 : 1;
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

    /// <summary><see cref="Body"/> as the client's submission (the options as JSON, written as the catalog's types write themselves).</summary>
    internal static JobSubmission Submission(string dataset, TrainingOptions o)
    {
        Dictionary<string, object?> fields = Body(dataset, o);
        fields.Remove("dataset");
        return new JobSubmission { Dataset = dataset, Options = JsonSerializer.SerializeToNode(fields, Json)!.AsObject() };
    }

    /// <summary>The status, title, detail and each field error of a refused request, on one line.</summary>
    internal static string Describe(RankServiceException e) =>
        string.Join(" ", new[] { $"{(int)e.Status} {e.Title}", e.Detail }.Concat(e.Errors.SelectMany(p => p.Value)).Where(t => !string.IsNullOrEmpty(t)));

    private static void CancelQuietly(RankServiceClient client, string id)
    {
        try
        {
            client.CancelJobAsync(id).GetAwaiter().GetResult();
        }
        catch (RankServiceException)
        {
            // Already finished (409): nothing to take back.
        }
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static string Wire(JobState state) => state.ToString().ToLowerInvariant();

    private static Dictionary<string, double> Metrics(IReadOnlyDictionary<string, double>? metrics) =>
        metrics?.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal) ?? [];

    /// <summary>The service's base address with the trailing slash relative paths need.</summary>
    internal static Uri BaseAddress(Uri service) =>
        service.AbsoluteUri.EndsWith('/') ? service : new Uri(service.AbsoluteUri + "/");
}
