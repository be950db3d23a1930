using System.Net.Http.Json;
using System.Text.Json;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary>
/// <c>sweep --service URL</c>: every configuration × seed becomes a <c>POST /jobs</c> on a running RankService, so
/// the service's queue and workers (GPU ones included) train them; the sweep waits for each job and builds the same
/// leaderboard from the jobs' best validation and test metrics, plus the popularity baseline the jobs report.
/// Each request names every training option (<see cref="Body"/>), so the service's configured defaults cannot change
/// a configuration; the device stays the service's choice.
/// </summary>
internal static class ServiceSweep
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record Submitted(int Config, int Seed, string JobId);

    /// <summary>Runs the sweep on the service behind <paramref name="client"/> (its BaseAddress ends with '/'); returns the exit code.</summary>
    public static int Run(HttpClient client, string dataset, IReadOnlyList<TrainingOptions> grid, Func<TrainingOptions, string> describe, IReadOnlyList<int> seeds,
        TimeSpan poll, Func<IReadOnlyList<LeaderboardEntry>, string> table, TextWriter output, TextWriter error)
    {
        var submitted = new List<Submitted>();
        for (int c = 0; c < grid.Count; c++)
        {
            foreach (int seed in seeds)
            {
                using HttpResponseMessage response = client.PostAsJsonAsync("jobs", Body(dataset, grid[c] with { Seed = seed }), Json).GetAwaiter().GetResult();
                string text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
                if (!response.IsSuccessStatusCode)
                {
                    error.WriteLine($"POST /jobs refused configuration {c + 1} seed {seed}: {(int)response.StatusCode} {text}");
                    foreach (Submitted s in submitted)
                    {
                        client.DeleteAsync($"jobs/{s.JobId}").GetAwaiter().GetResult().Dispose(); // do not leave half a sweep queued
                    }
                    return 2;
                }
                using JsonDocument created = JsonDocument.Parse(text);
                string id = created.RootElement.GetProperty("id").GetString()!;
                submitted.Add(new Submitted(c, seed, id));
                output.WriteLine($"[{c + 1}/{grid.Count}] {describe(grid[c])} seed {seed}: job {id}");
            }
        }

        var finished = new Dictionary<string, JsonElement>();
        var lastSeen = new Dictionary<string, string>();
        while (finished.Count < submitted.Count)
        {
            foreach (Submitted s in submitted.Where(s => !finished.ContainsKey(s.JobId)))
            {
                JsonElement job = Get(client, $"jobs/{s.JobId}");
                string state = job.GetProperty("state").GetString()!;
                string seen = $"{state} epoch {job.GetProperty("progress").GetProperty("epoch").GetInt32()}";
                if (lastSeen.GetValueOrDefault(s.JobId) != seen)
                {
                    lastSeen[s.JobId] = seen;
                    output.WriteLine($"job {s.JobId} ({s.Config + 1}/{grid.Count}, seed {s.Seed}): {seen}");
                }
                if (state is "succeeded" or "failed" or "cancelled")
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
                JsonElement job = finished[s.JobId];
                if (job.GetProperty("state").GetString() != "succeeded" || job.GetProperty("test").ValueKind != JsonValueKind.Object)
                {
                    failures++;
                    string why = job.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : job.GetProperty("state").GetString()!;
                    error.WriteLine($"job {s.JobId} ({c + 1}/{grid.Count}, seed {s.Seed}) did not succeed: {why}");
                    continue;
                }
                entry.Validation.Add(Metrics(job.GetProperty("bestValidation")));
                entry.Test.Add(Metrics(job.GetProperty("test")));
            }
            entry.Notes.Add("jobs " + string.Join(", ", submitted.Where(s => s.Config == c).Select(s => s.JobId)));
            if (entry.Test.Count > 0)
            {
                entries.Add(entry);
            }
        }
        if (submitted.FirstOrDefault(s => finished[s.JobId].GetProperty("state").GetString() == "succeeded") is { } first)
        {
            // The popularity baseline every job evaluates on the same split (deterministic: one suffices).
            JsonElement metrics = Get(client, $"jobs/{first.JobId}/metrics");
            if (metrics.GetProperty("popularityTest").ValueKind == JsonValueKind.Object)
            {
                entries.Add(new LeaderboardEntry("popularity", "", [Metrics(metrics.GetProperty("popularityValidation"))],
                    [Metrics(metrics.GetProperty("popularityTest"))], [$"from job {first.JobId}"]));
            }
        }
        output.WriteLine(table(entries));
        return failures == 0 ? 0 : 1;
    }

    /// <summary>
    /// The <c>POST /jobs</c> body of one configuration: the data set and every training option the API takes (from the
    /// catalog), so the service's configured defaults cannot change it; the device stays the service's choice.
    /// </summary>
    internal static Dictionary<string, object?> Body(string dataset, TrainingOptions o)
    {
        Dictionary<string, object?> body = TrainingOptionCatalog.ToFields(o);
        body.Remove(TrainingOptionCatalog.Find(nameof(TrainingOptions.Device))!.JsonName);
        body["dataset"] = dataset;
        return body;
    }

    private static JsonElement Get(HttpClient client, string path)
    {
        using HttpResponseMessage response = client.GetAsync(path).GetAwaiter().GetResult();
        string text = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"GET /{path} answered {(int)response.StatusCode}: {text}");
        }
        using JsonDocument document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    private static Dictionary<string, double> Metrics(JsonElement element) =>
        element.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number)
            .ToDictionary(p => p.Name, p => p.Value.GetDouble(), StringComparer.Ordinal);

    /// <summary>The service's base address with the trailing slash relative paths need.</summary>
    internal static Uri BaseAddress(Uri service) =>
        service.AbsoluteUri.EndsWith('/') ? service : new Uri(service.AbsoluteUri + "/");
}
