using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RankService.Api.Metrics;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Api.Tests.Metrics;

/// <summary>A host open to scrapes from the test server (which gives no client address) that has trained one job.</summary>
public sealed class MetricsService() : ServiceFixture(
    overrides: new Dictionary<string, string?> { ["Metrics:AllowedFromAnyAddress"] = "true" },
    trainFirst: new { dataset = "synthetic", epochs = 3 });

/// <summary><c>/metrics</c> after a job and some rankings: each named series with the value the API itself reports.</summary>
public sealed class MetricsTests(MetricsService service) : IClassFixture<MetricsService>
{
    private readonly HttpClient _client = service.Client;

    private async Task<(string Text, IReadOnlyList<PrometheusSample> Samples)> ScrapeAsync()
    {
        using HttpResponseMessage response = await _client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
        string text = await response.Content.ReadAsStringAsync();
        return (text, PrometheusText.Parse(text));
    }

    [Fact]
    public async Task Rankings_count_per_route_template_with_their_latency()
    {
        const string route = "/users/{id}/ranking";
        IReadOnlyList<PrometheusSample> before = (await ScrapeAsync()).Samples;
        foreach (string user in new[] { "1", "2", "3" })
        {
            (await _client.GetAsync($"/users/{user}/ranking?k=5")).EnsureSuccessStatusCode();
        }
        (await _client.GetAsync("/users/999999/ranking")).Dispose(); // a 404: counted under its own status code
        IReadOnlyList<PrometheusSample> after = (await ScrapeAsync()).Samples;

        string count = PrometheusNames.RequestDuration + "_count";
        string[] ok = [$"http_route={route}", "http_request_method=GET", "http_response_status_code=200"];
        Assert.Equal(3, after.Value(count, ok) - before.ValueOrZero(count, ok));
        string[] notFound = [$"http_route={route}", "http_response_status_code=404"];
        Assert.Equal(1, after.Value(count, notFound) - before.ValueOrZero(count, notFound));
        // Raw paths never become labels: one series per template, whatever the user id.
        Assert.DoesNotContain(after, s => s.Labels.TryGetValue("http_route", out string? r) && r.Contains("999999", StringComparison.Ordinal));
        double seconds = after.Value(PrometheusNames.RequestDuration + "_sum", ok) - before.ValueOrZero(PrometheusNames.RequestDuration + "_sum", ok);
        Assert.True(seconds > 0, "three rankings took no time");
        Assert.Equal(after.Value(count, ok), after.Value(PrometheusNames.RequestDuration + "_bucket", [.. ok, "le=+Inf"]));
    }

    [Fact]
    public async Task Jobs_by_state_match_the_jobs_list_with_zeros_for_empty_states()
    {
        IReadOnlyList<PrometheusSample> samples = (await ScrapeAsync()).Samples;
        JobPage jobs = (await _client.GetFromJsonAsync<JobPage>("/jobs", ApiHost.Json))!;
        foreach (JobState state in Enum.GetValues<JobState>())
        {
            string wire = state.ToString().ToLowerInvariant();
            Assert.Equal(jobs.Items.Count(j => j.State == state), samples.Value(PrometheusNames.Jobs, $"state={wire}"));
        }
        Assert.Equal(1, samples.Value(PrometheusNames.Jobs, "state=succeeded"));
    }

    [Fact]
    public async Task Epoch_seconds_and_training_items_are_the_jobs_own_numbers()
    {
        JobMetrics job = (await _client.GetFromJsonAsync<JobMetrics>($"/jobs/{service.Job.Id}/metrics", ApiHost.Json))!;
        IReadOnlyList<PrometheusSample> samples = (await ScrapeAsync()).Samples;

        Assert.Equal(3, samples.Value(PrometheusNames.EpochDuration + "_count", "dataset=synthetic"));
        Assert.Equal(job.Epochs.Sum(e => e.EpochSeconds), samples.Value(PrometheusNames.EpochDuration + "_sum", "dataset=synthetic"), 9);

        // The items of an epoch are its lists' entries: each user's train items (at most maxListSize) plus the negatives.
        TrainingOptions o = service.Job.Options;
        UserSplit split = EvaluationProtocol.Split(SyntheticMovieLens.Generate(ApiHost.Synthetic), o.Protocol, o.SplitSeed);
        long perEpoch = split.TrainItems.Where(t => t.Length > 0).Sum(t => (long)Math.Min(t.Length, o.MaxListSize) + Math.Min(o.NegativesPerList, split.ItemCount));
        Assert.All(job.Epochs, e => Assert.Equal(perEpoch, e.TrainItems));
        Assert.Equal(3 * perEpoch, samples.Value(PrometheusNames.TrainingItems, "dataset=synthetic"));
        EpochReport last = job.Epochs[^1];
        Assert.Equal(last.TrainItems / last.EpochSeconds, samples.Value(PrometheusNames.TrainingThroughput, "dataset=synthetic"), 6);
    }

    [Fact]
    public async Task Serving_model_age_and_validation_ndcg_are_those_of_the_serving_job()
    {
        DateTimeOffset before = DateTimeOffset.UtcNow;
        IReadOnlyList<PrometheusSample> samples = (await ScrapeAsync()).Samples;
        DateTimeOffset after = DateTimeOffset.UtcNow;
        JobView job = await ApiHost.GetJobAsync(_client, service.Job.Id);

        Assert.Equal(job.BestValidation!["NDCG@10"], samples.Value(PrometheusNames.ServingValidationNdcg, "dataset=synthetic"), 9);
        double age = samples.Value(PrometheusNames.ServingModelAge, "dataset=synthetic");
        Assert.InRange(age, (before - job.FinishedAt!.Value).TotalSeconds - 0.001, (after - job.FinishedAt.Value).TotalSeconds + 0.001);
    }

    [Fact]
    public async Task Feedback_rows_and_index_recall_recorded_by_other_parts_of_the_service_are_exposed()
    {
        ServiceMetrics metrics = service.Host.Services.GetRequiredService<ServiceMetrics>();
        IReadOnlyList<PrometheusSample> before = (await ScrapeAsync()).Samples;
        metrics.FeedbackIngested("synthetic", 40);
        metrics.FeedbackIngested("synthetic", 2);
        metrics.SetIndexRecall("synthetic", 0.97);
        double live = 0.5;
        IDisposable registration = metrics.RegisterIndexRecall("ml-100k", () => live);

        (string text, IReadOnlyList<PrometheusSample> after) = await ScrapeAsync();
        Assert.Equal(42, after.Value(PrometheusNames.FeedbackIngested, "dataset=synthetic") - before.ValueOrZero(PrometheusNames.FeedbackIngested, "dataset=synthetic"));
        Assert.Equal(0.97, after.Value(PrometheusNames.IndexRecall, "dataset=synthetic"));
        Assert.Equal(0.5, after.Value(PrometheusNames.IndexRecall, "dataset=ml-100k"));
        Assert.All(PrometheusNames.Own, name => Assert.Contains(after, s => s.Name == name || s.Name.StartsWith(name + "_", StringComparison.Ordinal)));
        Assert.Contains(PrometheusNames.RequestDuration, PrometheusText.Families(text));
        // Per-request instruments that repeat what the request histogram says are not recorded (each costs every ranking).
        Assert.DoesNotContain(PrometheusText.Families(text), f => f.StartsWith("aspnetcore_routing_", StringComparison.Ordinal)
            || f.StartsWith("aspnetcore_rate_limiting_", StringComparison.Ordinal) || f.StartsWith("http_server_active_requests", StringComparison.Ordinal));

        live = 0.75; // read at every scrape
        Assert.Equal(0.75, (await ScrapeAsync()).Samples.Value(PrometheusNames.IndexRecall, "dataset=ml-100k"));
        registration.Dispose();
        metrics.RemoveIndexRecall("synthetic");
        Assert.DoesNotContain((await ScrapeAsync()).Samples, s => s.Name == PrometheusNames.IndexRecall);

        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.FeedbackIngested("synthetic", -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => metrics.SetIndexRecall("synthetic", 1.5));
    }

    [Fact]
    public async Task The_scrape_needs_no_key_and_is_not_in_the_api_document()
    {
        using HttpClient anonymous = service.Host.CreateClientWithKey(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/metrics")).StatusCode);
        string openApi = await _client.GetStringAsync("/swagger/v1/swagger.json");
        Assert.DoesNotContain("\"/metrics\"", openApi, StringComparison.Ordinal);
    }
}

/// <summary>Who may scrape: loopback by default, configured networks or anyone when opened, nobody when off.</summary>
public sealed class MetricsAccessTests
{
    [Fact]
    public async Task By_default_a_client_that_is_not_on_loopback_gets_a_403_problem_naming_the_settings()
    {
        await using var host = new ApiHost();
        using HttpClient client = host.CreateClient(); // the test server gives no client address: not loopback
        using HttpResponseMessage response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        ProblemDetails problem = (await response.Content.ReadFromJsonAsync<ProblemDetails>(ApiHost.Json))!;
        Assert.Equal(403, problem.Status);
        Assert.Contains("Metrics:AllowedNetworks", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("Metrics:AllowedFromAnyAddress", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_loopback_client_scrapes_without_a_key_even_when_keys_are_configured()
    {
        await using var host = new ApiHost();
        Uri address = host.StartOnKestrel();
        using var client = new HttpClient { BaseAddress = address };
        using HttpResponseMessage response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("# TYPE " + PrometheusNames.Jobs + " gauge", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // Writes still need the key over the same connection: the scrape opened nothing else.
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/jobs", new { dataset = "synthetic" })).StatusCode);
    }

    [Theory]
    [InlineData("10.1.2.3", HttpStatusCode.OK)]
    [InlineData("::ffff:10.200.0.1", HttpStatusCode.OK)]
    [InlineData("192.168.1.5", HttpStatusCode.OK)]
    [InlineData("192.168.2.5", HttpStatusCode.Forbidden)]
    [InlineData("172.16.0.1", HttpStatusCode.Forbidden)]
    public async Task Configured_networks_may_scrape_and_other_addresses_may_not(string client, HttpStatusCode expected)
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?>
        {
            ["Metrics:AllowedNetworks:0"] = "10.0.0.0/8",
            ["Metrics:AllowedNetworks:1"] = "192.168.1.5",
        });
        await using WebApplicationFactory<Program> from = host.FromAddress(IPAddress.Parse(client));
        using HttpClient http = from.CreateClient();
        Assert.Equal(expected, (await http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Two_hosts_in_one_process_each_expose_only_their_own_series()
    {
        var open = new Dictionary<string, string?> { ["Metrics:AllowedFromAnyAddress"] = "true" };
        await using var first = new ApiHost(overrides: open);
        await using var second = new ApiHost(overrides: open);
        using HttpClient a = first.CreateClient();
        using HttpClient b = second.CreateClient();
        first.Services.GetRequiredService<ServiceMetrics>().FeedbackIngested("synthetic", 7);
        for (int i = 0; i < 4; i++)
        {
            (await a.GetAsync("/jobs")).EnsureSuccessStatusCode();
        }
        IReadOnlyList<PrometheusSample> mine = PrometheusText.Parse(await a.GetStringAsync("/metrics"));
        IReadOnlyList<PrometheusSample> theirs = PrometheusText.Parse(await b.GetStringAsync("/metrics"));
        string[] jobs = ["http_route=/jobs/", "http_response_status_code=200"];
        Assert.Equal(4, mine.Value(PrometheusNames.RequestDuration + "_count", jobs));
        Assert.Equal(0, theirs.ValueOrZero(PrometheusNames.RequestDuration + "_count", jobs));
        Assert.Equal(7, mine.Value(PrometheusNames.FeedbackIngested, "dataset=synthetic"));
        Assert.Equal(0, theirs.ValueOrZero(PrometheusNames.FeedbackIngested, "dataset=synthetic"));
    }

    [Fact]
    public async Task Turned_off_there_is_no_metrics_endpoint()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?> { ["Metrics:Enabled"] = "false", ["Metrics:AllowedFromAnyAddress"] = "true" });
        using HttpClient client = host.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/")]
    [InlineData("prometheus")]
    public async Task A_bad_network_stops_the_host_at_start_naming_the_setting(string network)
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?> { ["Metrics:AllowedNetworks:0"] = network });
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => host.CreateClient());
        Assert.Contains("Metrics:AllowedNetworks:0 must be a network in CIDR notation", error.Message, StringComparison.Ordinal);
    }
}

internal static class RemoteAddress
{
    /// <summary>This host with each request's client address set to <paramref name="address"/>.</summary>
    public static WebApplicationFactory<Program> FromAddress(this ApiHost host, IPAddress address) =>
        host.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new Filter(address))));

    private sealed class Filter(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, RequestDelegate following) =>
            {
                context.Connection.RemoteIpAddress = address;
                return following(context);
            });
            next(app);
        };
    }
}
