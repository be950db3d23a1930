using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RankService.Api.Tests;

/// <summary>Cross-site writes refused whatever trusts them; request text that reaches the log cannot forge or bloat it.</summary>
public sealed partial class CrossOriginAndLogTests
{
    private const string UnknownId = "0123456789abcdef0123456789abcdef";

    private static HttpRequestMessage SimplePost(string url, string? origin, string? fetchSite = null)
    {
        // What a web page can send cross-site without a preflight: a text/plain (or form) POST.
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = url.StartsWith("/hangfire", StringComparison.Ordinal)
                ? new FormUrlEncodedContent([new("jobs[]", "1")])
                : new StringContent("{}", Encoding.UTF8, "text/plain"),
        };
        if (origin is not null)
        {
            request.Headers.TryAddWithoutValidation("Origin", origin);
        }
        if (fetchSite is not null)
        {
            request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", fetchSite);
        }
        return request;
    }

    [Fact]
    public async Task Over_loopback_without_keys_a_cross_site_post_to_activate_or_the_dashboard_is_refused_and_same_origin_and_curl_pass()
    {
        await using var host = new ApiHost(withApiKey: false);
        host.UseKestrel(0);
        using HttpClient client = host.CreateClient();
        string self = client.BaseAddress!.GetLeftPart(UriPartial.Authority);
        string[] writes = [$"/models/{UnknownId}/activate", "/hangfire/jobs/enqueued/delete", "/jobs"];
        foreach (string url in writes)
        {
            foreach ((string? origin, string? site) in new (string?, string?)[]
            {
                ("http://evil.example", null), ("http://evil.example", "cross-site"), (null, "cross-site"), (null, "same-site"),
                ("null", null), ("http://localhost:1", null), (self.Replace("http:", "https:", StringComparison.Ordinal), null),
            })
            {
                using HttpResponseMessage refused = await client.SendAsync(SimplePost(url, origin, site));
                Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
                Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
                Assert.Equal("Cross-origin request refused", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString());
            }
        }
        // Same origin (the jobs page, the dashboard's own buttons) and no Origin at all (curl) reach the endpoint.
        foreach ((string? origin, string? site) in new (string?, string?)[] { (self, null), (self, "same-origin"), (null, null), (null, "none") })
        {
            using HttpResponseMessage activate = await client.SendAsync(SimplePost($"/models/{UnknownId}/activate", origin, site));
            Assert.Equal(HttpStatusCode.NotFound, activate.StatusCode);
            using HttpResponseMessage dashboard = await client.SendAsync(SimplePost("/hangfire/jobs/enqueued/delete", origin, site));
            Assert.NotEqual(HttpStatusCode.Forbidden, dashboard.StatusCode);
            Assert.True((int)dashboard.StatusCode < 500, dashboard.StatusCode.ToString());
        }
        // The dashboard's form-reading endpoints answer a body of another type 415, not a 500 from Hangfire's form reader.
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.GetAsync("/hangfire/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/hangfire/jobs/enqueued/delete", new StringContent("{}", Encoding.UTF8, "application/json"))).StatusCode);
        // Reads stay open cross-site: a link to the service from elsewhere still works.
        using var read = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        read.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "cross-site");
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(read)).StatusCode);
        // The same-origin JSON submission of the jobs page trains.
        using var submit = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = JsonContent.Create(new { dataset = "synthetic", epochs = 1 }) };
        submit.Headers.TryAddWithoutValidation("Origin", self);
        submit.Headers.TryAddWithoutValidation("Sec-Fetch-Site", "same-origin");
        HttpResponseMessage accepted = await client.SendAsync(submit);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        string id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await ApiHost.WaitForAsync(client, id, j => j.State.IsFinished());
    }

    [Fact]
    public async Task A_cross_site_write_is_refused_even_with_a_valid_key()
    {
        await using var host = new ApiHost();
        using HttpClient client = host.CreateClient();
        using HttpResponseMessage response = await client.SendAsync(SimplePost($"/models/{UnknownId}/activate", "https://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using HttpResponseMessage curl = await client.SendAsync(SimplePost($"/models/{UnknownId}/activate", null));
        Assert.Equal(HttpStatusCode.NotFound, curl.StatusCode);
    }

    [Fact]
    public async Task Kestrels_own_rejections_of_a_nul_in_the_path_an_overlong_url_or_headers_answer_4xx()
    {
        // Kestrel answers these before the pipeline runs, so with an empty body (see the README's Security section).
        await using var host = new ApiHost();
        host.UseKestrel(0);
        using HttpClient client = host.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync("/jobs/%00")).StatusCode);
        Assert.Equal(HttpStatusCode.RequestUriTooLong, (await client.GetAsync("/jobs/" + new string('a', 10_000))).StatusCode);
        using var headers = new HttpRequestMessage(HttpMethod.Get, "/jobs");
        headers.Headers.TryAddWithoutValidation("X-Big", new string('h', 40_000));
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, (await client.SendAsync(headers)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/jobs")).StatusCode);
    }

    /// <summary>A host logging at Information to a text file in the console's own format, and where that file is.</summary>
    private static (ApiHost Host, string Folder) TextLoggingHost()
    {
        string root = ApiHost.TempFolder();
        string folder = Path.Combine(root, "text-logs");
        var host = new ApiHost(root, new Dictionary<string, string?>
        {
            ["Serilog:MinimumLevel:Default"] = "Information",
            ["RateLimiting:Jobs:PermitLimit"] = "100000",
            ["Serilog:WriteTo:2:Name"] = "File",
            ["Serilog:WriteTo:2:Args:path"] = Path.Combine(folder, "console-.log"),
            ["Serilog:WriteTo:2:Args:outputTemplate"] = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}",
        });
        return (host, folder);
    }

    private static string[] ReadLines(string folder) =>
        [.. Directory.GetFiles(folder).SelectMany(File.ReadAllLines).Where(l => l.Length > 0)];

    [GeneratedRegex("""^\[\d\d:\d\d:\d\d (VRB|DBG|INF|WRN|ERR|FTL)\] """)]
    private static partial Regex LineStart();

    [Fact]
    public async Task Successful_answers_of_every_ranking_endpoint_log_below_information_and_their_bad_requests_at_information()
    {
        (ApiHost host, string folder) = TextLoggingHost();
        string[] answered = ["/users/3/ranking?dataset=synthetic", "/items/5/similar?dataset=synthetic", "/users/3/similar?dataset=synthetic", "/items/popular?dataset=synthetic"];
        await using (host)
        {
            using HttpClient client = host.CreateClient();
            JobView queued = await ApiHost.PostJobAsync(client, new { dataset = "synthetic", epochs = 1 });
            await ApiHost.WaitForStateAsync(client, queued.Id, JobState.Succeeded);
            foreach (string url in answered)
            {
                using HttpResponseMessage response = await client.GetAsync(url);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            using HttpResponseMessage bad = await client.GetAsync("/items/popular?dataset=synthetic&k=0");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }
        string[] requestLines = [.. ReadLines(folder).Where(l => l.Contains("] HTTP ", StringComparison.Ordinal))];
        Assert.Contains(requestLines, l => l.Contains("INF] HTTP GET /items/popular responded 400 ", StringComparison.Ordinal)); // the level is on
        foreach (string url in answered)
        {
            string path = url[..url.IndexOf('?', StringComparison.Ordinal)];
            Assert.DoesNotContain(requestLines, l => l.Contains($"HTTP GET {path} responded 200 ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Loggers_are_made_once_per_category_and_still_write_and_filter_by_level()
    {
        (ApiHost host, string folder) = TextLoggingHost();
        await using (host)
        {
            ILoggerFactory factory = host.Services.GetRequiredService<ILoggerFactory>();
            // ASP.NET Core asks for a logger on every request (each typed result): one per category, not one per call.
            ILogger first = factory.CreateLogger("RankService.Tests.Cached");
            Assert.Same(first, factory.CreateLogger("RankService.Tests.Cached"));
            Assert.NotSame(first, factory.CreateLogger("RankService.Tests.Other"));
            Assert.Same(host.Services.GetRequiredService<ILogger<CrossOriginAndLogTests>>(), host.Services.GetRequiredService<ILogger<CrossOriginAndLogTests>>());

            ILogger again = factory.CreateLogger("RankService.Tests.Cached");
            again.LogWarning("cached logger line {Marker}", "m-7f3a");
            again.LogDebug("below the level {Marker}", "m-debug");
            Assert.False(again.IsEnabled(LogLevel.Debug));
            Assert.True(again.IsEnabled(LogLevel.Information));
        }
        string[] lines = ReadLines(folder);
        Assert.Single(lines, l => l.Contains("cached logger line m-7f3a", StringComparison.Ordinal) && l.Contains("\"SourceContext\":\"RankService.Tests.Cached\"", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("m-debug", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Control_characters_from_a_request_are_escaped_in_the_log_and_cannot_forge_a_line()
    {
        (ApiHost host, string folder) = TextLoggingHost();
        await using (host)
        {
            using HttpClient client = host.CreateClient();
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/jobs/x%0d%0a%5b00:00:00%20ERR%5d%20FORGED")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/jobs/%1B%5B2J%1B%5B31mANSI")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/jobs/%E2%80%AEreversed%E2%80%A8separated")).StatusCode);
        }
        string[] lines = ReadLines(folder);
        Assert.Contains(lines, l => l.Contains("/jobs/x\\r\\n[00:00:00 ERR] FORGED", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("/jobs/\\u001B[2J\\u001B[31mANSI", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("/jobs/\\u202Ereversed\\u2028separated", StringComparison.Ordinal));
        Assert.All(lines, l => Assert.Matches(LineStart(), l)); // no line begins with forged text
        string all = string.Concat(lines);
        Assert.DoesNotContain('\u001B', all);
        Assert.DoesNotContain('\u202E', all);
        Assert.DoesNotContain("ERR] FORGED", lines.Select(l => l[..Math.Min(l.Length, 20)]));
    }

    [Fact]
    public async Task Bad_requests_are_logged_one_line_each_below_error_without_a_stack_trace()
    {
        (ApiHost host, string folder) = TextLoggingHost();
        int sent = 0, failed = 0;
        await using (host)
        {
            using HttpClient client = host.CreateClient();
            foreach (BadRequest bad in BadInputTests.Cases.Values.Concat(HostileInputTests.Everywhere))
            {
                if (bad.Url.StartsWith("/users/", StringComparison.Ordinal))
                {
                    continue; // no model here: rankings answer 503, a state of the service and not the request's fault
                }
                using HttpRequestMessage message = (bad with { Url = bad.Url.Replace("{done}", UnknownId, StringComparison.Ordinal) }).ToMessage();
                using HttpResponseMessage response = await client.SendAsync(message);
                Assert.InRange((int)response.StatusCode, 200, 499);
                sent++;
                failed += (int)response.StatusCode >= 400 ? 1 : 0;
            }
        }
        string[] lines = ReadLines(folder);
        Assert.All(lines, l => Assert.Matches(LineStart(), l)); // no stack trace lines ("   at ...")
        Assert.DoesNotContain(lines, l => l.StartsWith('[') && (l.Contains(" ERR] ", StringComparison.Ordinal) || l.Contains(" FTL] ", StringComparison.Ordinal)));
        string[] requestLines = [.. lines.Where(l => l.Contains("] HTTP ", StringComparison.Ordinal))];
        Assert.InRange(requestLines.Length, failed, sent); // one line per client error (a 2xx read of jobs logs at Debug)
        Assert.All(requestLines, l => Assert.Matches(" responded [1-4]\\d\\d ", l));
        Assert.All(lines, l => Assert.True(l.Length < 4000, $"{l.Length} characters: {l[..Math.Min(200, l.Length)]}"));
    }
}
