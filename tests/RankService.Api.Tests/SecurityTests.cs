using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Api.Security;
using RankService.Ranking.Data;

namespace RankService.Api.Tests;

/// <summary>A host that accepts <see cref="ApiHost.TestKey"/> and one more key; no model trained.</summary>
public sealed class KeyedService() : ServiceFixture(new Dictionary<string, string?>
{
    // printf %s second-key | sha256sum
    ["Security:ApiKeyHashes:1"] = "f397f260a275cc4d42e7965c556167bf3f068aed491d35a8f5b38c8c2db96bb0",
})
{
    public const string SecondKey = "second-key";
}

public sealed class ApiKeyTests(KeyedService service) : IClassFixture<KeyedService>
{
    private static readonly string[] ProtectedCalls = ["POST /jobs", "DELETE /jobs/0123456789abcdef0123456789abcdef", "POST /models/0123456789abcdef0123456789abcdef/activate"];

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string call)
    {
        string[] parts = call.Split(' ');
        using var request = new HttpRequestMessage(new HttpMethod(parts[0]), parts[1]);
        if (parts[0] == "POST")
        {
            request.Content = new StringContent("""{"dataset":"synthetic","epochs":1}""", Encoding.UTF8, "application/json");
        }
        return await client.SendAsync(request);
    }

    private static async Task<JsonElement> AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", response.Headers.WwwAuthenticate.ToString());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("wrong-key")]
    [InlineData("RS-TEST-KEY-0123456789")]
    [InlineData("rs-test-key-012345678")]
    [InlineData("5970534f6e73bdc900cc2868b6b9886f8eed452e0a6709358df14d5a37a92bc4")]
    public async Task Submitting_cancelling_and_activating_without_the_right_key_answer_the_same_401(string? key)
    {
        using HttpClient client = service.Host.CreateClientWithKey(key);
        using HttpClient anonymous = service.Host.CreateClientWithKey(null);
        foreach (string call in ProtectedCalls)
        {
            JsonElement problem = await AssertUnauthorizedAsync(await SendAsync(client, call));
            JsonElement missing = await AssertUnauthorizedAsync(await SendAsync(anonymous, call));
            // Same answer for a missing and a wrong key (the trace id aside): nothing says which it was.
            foreach (string field in new[] { "type", "title", "status", "detail" })
            {
                Assert.Equal(missing.GetProperty(field).ToString(), problem.GetProperty(field).ToString());
            }
            Assert.Equal(
                missing.EnumerateObject().Select(p => p.Name).Order(),
                problem.EnumerateObject().Select(p => p.Name).Order());
        }
        Assert.Equal(0, (await anonymous.GetFromJsonAsync<JsonElement>("/jobs")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Two_key_headers_one_of_them_right_answer_401()
    {
        using HttpClient client = service.Host.CreateClientWithKey(null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/jobs") { Content = JsonContent.Create(new { epochs = 0 }) };
        request.Headers.TryAddWithoutValidation("X-Api-Key", [ApiHost.TestKey, "wrong-key"]);
        await AssertUnauthorizedAsync(await client.SendAsync(request));
    }

    [Fact]
    public async Task Each_configured_key_is_accepted_and_reaches_the_endpoint()
    {
        foreach (string key in new[] { ApiHost.TestKey, KeyedService.SecondKey })
        {
            using HttpClient client = service.Host.CreateClientWithKey(key);
            // An invalid request gets through authentication to validation (400), an unknown job to 404.
            HttpResponseMessage post = await client.PostAsJsonAsync("/jobs", new { epochs = 0 });
            Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/jobs/0123456789abcdef0123456789abcdef")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync("/models/0123456789abcdef0123456789abcdef/activate", null)).StatusCode);
        }
    }

    [Fact]
    public async Task Reading_jobs_models_health_and_rankings_needs_no_key_by_default()
    {
        using HttpClient client = service.Host.CreateClientWithKey(null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/jobs/0123456789abcdef0123456789abcdef")).StatusCode);
        // No model yet: 503, not 401.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/users/1/ranking")).StatusCode);
    }

    [Fact]
    public void The_verifier_hashes_the_key_and_compares_with_every_configured_hash()
    {
        var verifier = new ApiKeyVerifier(Microsoft.Extensions.Options.Options.Create(new SecurityOptions
        {
            ApiKeyHashes = [ApiHost.TestKeyHash, ApiKeyVerifier.Hash(KeyedService.SecondKey).ToUpperInvariant()],
        }));
        Assert.True(verifier.HasKeys);
        Assert.True(verifier.Verify(ApiHost.TestKey));
        Assert.True(verifier.Verify(KeyedService.SecondKey));
        Assert.Equal(ApiHost.TestKeyHash, ApiKeyVerifier.Hash(ApiHost.TestKey));
        Assert.False(verifier.Verify(null));
        Assert.False(verifier.Verify(""));
        Assert.False(verifier.Verify(ApiHost.TestKey + "\n"));
        Assert.False(verifier.Verify(ApiHost.TestKey[..^1] + "8"));
        Assert.False(verifier.Verify(ApiHost.TestKeyHash));
        Assert.False(verifier.Verify(new string('k', 100_000)));
        Assert.False(new ApiKeyVerifier(Microsoft.Extensions.Options.Options.Create(new SecurityOptions())).HasKeys);
    }

    [Fact]
    public async Task Swagger_shows_the_api_key_scheme_on_the_protected_operations_only()
    {
        using HttpClient client = service.Host.CreateClientWithKey(null);
        JsonElement doc = await client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        JsonElement scheme = doc.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("apiKey", scheme.GetProperty("type").GetString());
        Assert.Equal("header", scheme.GetProperty("in").GetString());
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        JsonElement paths = doc.GetProperty("paths");
        Assert.True(paths.GetProperty("/jobs").GetProperty("post").TryGetProperty("security", out _));
        Assert.True(paths.GetProperty("/jobs/{id}").GetProperty("delete").TryGetProperty("security", out _));
        Assert.True(paths.GetProperty("/models/{id}/activate").GetProperty("post").TryGetProperty("security", out _));
        Assert.True(paths.GetProperty("/jobs/{id}").GetProperty("delete").GetProperty("responses").TryGetProperty("401", out _));
        Assert.False(paths.GetProperty("/jobs").GetProperty("get").TryGetProperty("security", out _));
        Assert.False(paths.GetProperty("/users/{id}/ranking").GetProperty("get").TryGetProperty("security", out _));
    }

    [Fact]
    public async Task The_dashboard_stays_local_only_by_default_even_with_a_key()
    {
        // The test server's requests carry no remote address, so they are not loopback requests.
        using HttpClient client = service.Host.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/hangfire")).StatusCode);
    }
}

public sealed class SecuritySettingsTests
{
    [Fact]
    public async Task With_RequireKeyForRankings_a_ranking_needs_the_key()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?> { ["Security:RequireKeyForRankings"] = "true" });
        using HttpClient anonymous = host.CreateClientWithKey(null);
        using HttpClient wrong = host.CreateClientWithKey("nope");
        using HttpClient keyed = host.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/users/1/ranking")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/users/1/ranking")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await keyed.GetAsync("/users/1/ranking")).StatusCode);
    }

    [Fact]
    public async Task Without_keys_changes_are_refused_to_clients_that_are_not_on_loopback()
    {
        await using var host = new ApiHost(withApiKey: false);
        using HttpClient client = host.CreateClient();
        HttpResponseMessage response = await client.PostAsJsonAsync("/jobs", new { epochs = 0 });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.DeleteAsync("/jobs/0123456789abcdef0123456789abcdef")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/jobs")).StatusCode);
    }

    [Fact]
    public async Task Without_keys_a_loopback_client_over_kestrel_may_submit_and_open_the_dashboard()
    {
        await using var host = new ApiHost(withApiKey: false);
        host.UseKestrel(0);
        using HttpClient client = host.CreateClient();
        Assert.True(IPAddressIsLoopback(client.BaseAddress!));
        HttpResponseMessage response = await client.PostAsJsonAsync("/jobs", new { dataset = "synthetic", epochs = 1 });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await ApiHost.WaitForAsync(client, id, j => j.State.IsFinished());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/hangfire")).StatusCode);
    }

    private static bool IPAddressIsLoopback(Uri uri) => uri.IsLoopback;

    [Fact]
    public async Task Without_keys_the_service_warns_at_start_that_changes_are_local_only()
    {
        var host = new ApiHost(withApiKey: false);
        await using (host)
        {
            host.CreateClient().Dispose();
        }
        string logs = string.Concat(Directory.GetFiles(Path.Combine(host.ArtifactsRoot, "logs")).Select(File.ReadAllText));
        Assert.Contains("No API keys configured", logs, StringComparison.Ordinal);
        Assert.Contains("loopback", logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dashboard_open_to_other_machines_takes_the_key()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?> { ["Jobs:DashboardLocalOnly"] = "false" });
        using HttpClient keyed = host.CreateClient();
        using HttpClient anonymous = host.CreateClientWithKey(null);
        using HttpClient wrong = host.CreateClientWithKey("nope");
        Assert.Equal(HttpStatusCode.OK, (await keyed.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/hangfire")).StatusCode);
    }

    [Fact]
    public async Task Job_submissions_over_the_limit_answer_429_with_retry_after()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?>
        {
            ["RateLimiting:Jobs:PermitLimit"] = "3",
            ["RateLimiting:Jobs:Window"] = "01:00:00",
        });
        using HttpClient client = host.CreateClient();
        for (int i = 0; i < 3; i++)
        {
            // Invalid bodies: they count against the limit without training anything.
            Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/jobs", new { epochs = 0 })).StatusCode);
        }
        HttpResponseMessage limited = await client.PostAsJsonAsync("/jobs", new { epochs = 0 });
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 3600);
        string detail = (await limited.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("At most 3 job submissions per 01:00:00", detail, StringComparison.Ordinal);
        // Reading is not limited by the jobs policy.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/jobs")).StatusCode);
    }

    [Fact]
    public async Task Rankings_over_their_limit_answer_429_with_retry_after()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?>
        {
            ["RateLimiting:Rankings:PermitLimit"] = "2",
            ["RateLimiting:Rankings:Window"] = "00:10:00",
        });
        using HttpClient client = host.CreateClient();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/users/1/ranking")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/users/2/ranking")).StatusCode);
        HttpResponseMessage limited = await client.GetAsync("/users/3/ranking");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 600);
    }

    [Fact]
    public async Task By_default_rankings_carry_no_rate_limit_and_job_submission_does()
    {
        await using var host = new ApiHost();
        host.CreateClient().Dispose();
        RouteEndpoint[] endpoints = [.. host.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()];
        RouteEndpoint ranking = endpoints.Single(e => e.RoutePattern.RawText == "/users/{id}/ranking");
        RouteEndpoint submit = endpoints.Single(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.IEndpointNameMetadata>()?.EndpointName == "CreateJob");
        Assert.Null(ranking.Metadata.GetMetadata<EnableRateLimitingAttribute>());
        Assert.Equal("jobs", submit.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName);
        RateLimitingOptions defaults = host.Services.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
        Assert.Equal(60, defaults.Jobs.PermitLimit);
        Assert.Equal(0, defaults.Rankings.PermitLimit);
    }

    [Fact]
    public async Task A_body_over_the_limit_answers_413_problem_details_over_kestrel()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?> { ["Security:MaxRequestBodyBytes"] = "4096" });
        host.UseKestrel(0);
        using HttpClient client = host.CreateClient();
        string big = $$"""{"dataset":"{{new string('a', 10_000)}}"}""";

        HttpResponseMessage sized = await client.PostAsync("/jobs", new StringContent(big, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, sized.StatusCode);
        Assert.Equal("application/problem+json", sized.Content.Headers.ContentType?.MediaType);
        Assert.Contains("at most 4096 are accepted", (await sized.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Chunked, with no Content-Length: cut off while reading. Kestrel closes the connection after such a 413; a
        // client still writing the body when that happens can see a reset instead of the response (HttpClient
        // writing in pieces did, now and then). So the whole request goes out in one write on a raw socket, and the
        // response is read to the end of the connection.
        Uri address = new(host.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.Single());
        byte[] body = Encoding.UTF8.GetBytes(big);
        byte[] request = [.. Encoding.ASCII.GetBytes($"POST /jobs HTTP/1.1\r\nHost: {address.Authority}\r\nContent-Type: application/json\r\n" +
            $"X-Api-Key: {ApiHost.TestKey}\r\nTransfer-Encoding: chunked\r\n\r\n{body.Length:x}\r\n"), .. body, .. Encoding.ASCII.GetBytes("\r\n0\r\n\r\n")];
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(address.Host, address.Port);
        await using System.Net.Sockets.NetworkStream stream = socket.GetStream();
        await stream.WriteAsync(request);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string response = await reader.ReadToEndAsync();
        Assert.StartsWith("HTTP/1.1 413", response, StringComparison.Ordinal);
        Assert.Contains("Content-Type: application/problem+json", response, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("4096", response[response.IndexOf("\r\n\r\n", StringComparison.Ordinal)..], StringComparison.Ordinal); // in the problem details body

        // Under the limit is fine.
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/jobs", new { epochs = 0 })).StatusCode);
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("..")]
    [InlineData("/etc")]
    [InlineData("ml-100k/../../outside")]
    [InlineData("..\\outside")]
    public async Task A_path_traversal_data_set_name_is_refused_by_the_api_and_never_reaches_the_disk(string name)
    {
        await using var host = new ApiHost();
        using HttpClient client = host.CreateClient();
        HttpResponseMessage post = await client.PostAsJsonAsync("/jobs", new { dataset = name });
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Contains("Unknown data set", (await post.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("dataset")[0].GetString(), StringComparison.Ordinal);
        HttpResponseMessage ranking = await client.GetAsync($"/users/1/ranking?dataset={Uri.EscapeDataString(name)}");
        Assert.Equal(HttpStatusCode.BadRequest, ranking.StatusCode);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/jobs")).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("..")]
    [InlineData("ml-100k/../../outside")]
    public void The_dataset_provider_refuses_a_name_that_leaves_the_data_root_even_if_configured(string name)
    {
        // Start-up validation keeps such names out of Data:Datasets; the provider checks again on its own.
        string root = ApiHost.TempFolder();
        string outside = Path.Combine(root, "outside");
        SyntheticMovieLens.Write(SyntheticMovieLens.Generate(ApiHost.Synthetic), outside, MovieLensFormat.Ml100k);
        var provider = new MovieLensDatasetProvider(
            Microsoft.Extensions.Options.Options.Create(new DataOptions { Root = Path.Combine(root, "data"), Datasets = [name], Download = false }),
            new NoHttp());
        MovieLensDataException error = Assert.Throws<MovieLensDataException>(() => provider.Load(name, CancellationToken.None));
        Assert.Contains("not a folder directly inside the data root", error.Message, StringComparison.Ordinal);
    }

    private sealed class NoHttp : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => throw new InvalidOperationException("The provider must not download.");
    }

    [Fact]
    public async Task An_api_key_never_appears_in_the_logs_even_at_the_most_verbose_level()
    {
        const string wrongKey = "wrong-key-that-must-not-be-logged-5d1f";
        var host = new ApiHost(overrides: new Dictionary<string, string?>
        {
            ["Serilog:MinimumLevel:Default"] = "Verbose",
            ["Serilog:MinimumLevel:Override:Microsoft.AspNetCore"] = "Verbose",
            ["Serilog:MinimumLevel:Override:Microsoft"] = "Verbose",
            ["Serilog:MinimumLevel:Override:Hangfire"] = "Verbose",
            ["Serilog:MinimumLevel:Override:System.Net.Http"] = "Verbose",
        });
        await using (host)
        {
            using HttpClient keyed = host.CreateClient();
            using HttpClient wrong = host.CreateClientWithKey(wrongKey);
            Assert.Equal(HttpStatusCode.BadRequest, (await keyed.PostAsJsonAsync("/jobs", new { epochs = 0 })).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await keyed.DeleteAsync("/jobs/0123456789abcdef0123456789abcdef")).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsJsonAsync("/jobs", new { epochs = 0 })).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.PostAsync("/models/x/activate", null)).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await wrong.GetAsync("/users/1/ranking")).StatusCode);
        }
        string logs = string.Concat(Directory.GetFiles(Path.Combine(host.ArtifactsRoot, "logs")).Select(File.ReadAllText));
        // The log is there and verbose (request lines, authentication failures), yet holds neither key.
        Assert.Contains("/jobs", logs, StringComparison.Ordinal);
        Assert.Contains("\"RequestPath\":\"/jobs\"", logs, StringComparison.Ordinal); // the request log's own lines
        Assert.Contains("ApiKey", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiHost.TestKey, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(wrongKey, logs, StringComparison.Ordinal);
    }
}
