using System.Security.Cryptography;
using System.Text;

namespace RankService.Api.Tests;

/// <summary>One malformed request: a name for the test list, then what is sent.</summary>
public sealed record BadRequest(string Method, string Url, byte[]? Body = null, string? ContentType = "application/json")
{
    public static BadRequest Json(string json) => new("POST", "/jobs", Encoding.UTF8.GetBytes(json));

    public HttpRequestMessage ToMessage()
    {
        var message = new HttpRequestMessage(new HttpMethod(Method), Url);
        if (Body is not null)
        {
            message.Content = new ByteArrayContent(Body);
            if (ContentType is not null)
            {
                message.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(ContentType);
            }
        }
        return message;
    }
}

/// <summary>A host that has trained one job (the "earlier" job whose artifacts must never change).</summary>
public sealed class BadInputService() : ServiceFixture(
    // The job submission limit is tested on its own (SecurityTests); here it must not turn a 400 into a 429.
    new Dictionary<string, string?> { ["RateLimiting:Jobs:PermitLimit"] = "100000" },
    trainFirst: new { dataset = "synthetic", epochs = 2 })
{
    /// <summary>SHA-256 of every file of the earlier job and of the serving choice, by relative path.</summary>
    public SortedDictionary<string, string> HashArtifacts()
    {
        var hashes = new SortedDictionary<string, string>(StringComparer.Ordinal);
        string jobs = Path.Combine(Host.ArtifactsRoot, "jobs");
        foreach (string file in Directory.EnumerateFiles(Path.Combine(jobs, Job.Id), "*", SearchOption.AllDirectories))
        {
            hashes[Path.GetRelativePath(Host.ArtifactsRoot, file)] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file)));
        }
        string serving = Path.Combine(Host.ArtifactsRoot, "serving.json");
        if (File.Exists(serving))
        {
            hashes["serving.json"] = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(serving)));
        }
        return hashes;
    }
}

public sealed class BadInputTests(BadInputService service) : IClassFixture<BadInputService>
{
    private const string UnknownId = "0123456789abcdef0123456789abcdef";
    private static readonly string Long = new('x', 10_000);

    /// <summary>Every endpoint, each request malformed in its own way. <c>{done}</c> stands for the finished job's id.</summary>
    public static readonly IReadOnlyDictionary<string, BadRequest> Cases = new Dictionary<string, BadRequest>
    {
        // POST /jobs: broken JSON
        ["job: truncated JSON"] = BadRequest.Json("""{"epochs":"""),
        ["job: unquoted property name"] = BadRequest.Json("{epochs: 3}"),
        ["job: trailing comma"] = BadRequest.Json("""{"epochs":3,}"""),
        ["job: single quotes"] = BadRequest.Json("{'epochs':3}"),
        ["job: a string, not an object"] = BadRequest.Json("\"synthetic\""),
        ["job: a number, not an object"] = BadRequest.Json("42"),
        ["job: an array, not an object"] = BadRequest.Json("[1,2]"),
        ["job: two objects"] = BadRequest.Json("""{"epochs":3}{"epochs":4}"""),
        ["job: invalid UTF-8"] = new("POST", "/jobs", [(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}']),
        ["job: lone surrogate escape"] = BadRequest.Json("""{"dataset":"\ud800"}"""),
        ["job: nested past the depth limit"] = BadRequest.Json($$"""{"hiddenSizes":{{new string('[', 100)}}{{new string(']', 100)}}}"""),
        // wrong types
        ["job: epochs as text"] = BadRequest.Json("""{"epochs":"ten"}"""),
        ["job: epochs as a numeric string"] = BadRequest.Json("""{"epochs":"3"}"""),
        ["job: epochs fractional"] = BadRequest.Json("""{"epochs":3.5}"""),
        ["job: epochs as a boolean"] = BadRequest.Json("""{"epochs":true}"""),
        ["job: epochs in exponent form"] = BadRequest.Json("""{"epochs":1e3}"""),
        ["job: dataset as a number"] = BadRequest.Json("""{"dataset":42}"""),
        ["job: dataset as an array"] = BadRequest.Json("""{"dataset":["synthetic"]}"""),
        ["job: hiddenSizes as text"] = BadRequest.Json("""{"hiddenSizes":"64"}"""),
        ["job: hiddenSizes with text inside"] = BadRequest.Json("""{"hiddenSizes":[64,"x"]}"""),
        ["job: itemBias as text"] = BadRequest.Json("""{"itemBias":"yes"}"""),
        ["job: alpha as an object"] = BadRequest.Json("""{"alpha":{"value":0.5}}"""),
        // missing and extra fields
        ["job: misspelt field"] = BadRequest.Json("""{"epoch":5}"""),
        ["job: snake_case field"] = BadRequest.Json("""{"dataset":"synthetic","learning_rate":0.1}"""),
        ["job: field repeated"] = BadRequest.Json("""{"epochs":3,"epochs":4}"""),
        ["job: field with empty name"] = BadRequest.Json("""{"":1}"""),
        // huge, negative and non-finite numbers
        ["job: epochs past int"] = BadRequest.Json("""{"epochs":99999999999}"""),
        ["job: seed past long"] = BadRequest.Json("""{"seed":99999999999999999999999}"""),
        ["job: epochs negative"] = BadRequest.Json("""{"epochs":-5}"""),
        ["job: batchSize int.MinValue"] = BadRequest.Json("""{"batchSize":-2147483648}"""),
        ["job: embeddingDim int.MaxValue"] = BadRequest.Json("""{"embeddingDim":2147483647}"""),
        ["job: negatives 10^9"] = BadRequest.Json("""{"negativesPerList":1000000000}"""),
        ["job: dropout 1e309"] = BadRequest.Json("""{"dropout":1e309}"""),
        ["job: alpha NaN literal"] = BadRequest.Json("""{"alpha":NaN}"""),
        ["job: alpha \"NaN\""] = BadRequest.Json("""{"alpha":"NaN"}"""),
        ["job: learningRate \"Infinity\""] = BadRequest.Json("""{"learningRate":"Infinity"}"""),
        ["job: weightDecay \"-Infinity\""] = BadRequest.Json("""{"weightDecay":"-Infinity"}"""),
        ["job: hiddenSizes negative"] = BadRequest.Json("""{"hiddenSizes":[-1]}"""),
        ["job: hiddenSizes nine layers"] = BadRequest.Json("""{"hiddenSizes":[1,2,3,4,5,6,7,8,9]}"""),
        // unknown names, overlong strings, control characters and Unicode
        ["job: unknown loss"] = BadRequest.Json("""{"loss":"no-such-loss"}"""),
        ["job: empty loss"] = BadRequest.Json("""{"loss":""}"""),
        ["job: unknown head"] = BadRequest.Json("""{"head":"transformer"}"""),
        ["job: device with a newline"] = BadRequest.Json("""{"device":"cuda\nrm -rf /"}"""),
        ["job: overlong dataset"] = BadRequest.Json($$"""{"dataset":"{{Long}}"}"""),
        ["job: overlong loss"] = BadRequest.Json($$"""{"loss":"{{Long}}"}"""),
        ["job: dataset with NUL"] = BadRequest.Json("""{"dataset":"synthetic\u0000"}"""),
        ["job: dataset with RTL override"] = BadRequest.Json("""{"dataset":"\u202Esynthetic"}"""),
        ["job: dataset in emoji"] = BadRequest.Json("""{"dataset":"🎬"}"""),
        ["job: dataset upper case"] = BadRequest.Json("""{"dataset":"SYNTHETIC"}"""),
        // path traversal
        ["job: dataset ../../etc/passwd"] = BadRequest.Json("""{"dataset":"../../etc/passwd"}"""),
        ["job: dataset .."] = BadRequest.Json("""{"dataset":".."}"""),
        ["job: dataset absolute path"] = BadRequest.Json("""{"dataset":"/etc"}"""),
        ["job: dataset backslashes"] = BadRequest.Json("""{"dataset":"..\\..\\windows"}"""),
        ["job: dataset through a known one"] = BadRequest.Json("""{"dataset":"ml-100k/../../outside"}"""),
        ["job: dataset URL-encoded"] = BadRequest.Json("""{"dataset":"%2e%2e%2fetc"}"""),
        // wrong media types and methods
        ["job: text/plain"] = new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":3}"""), "text/plain"),
        ["job: form"] = new("POST", "/jobs", Encoding.UTF8.GetBytes("epochs=3"), "application/x-www-form-urlencoded"),
        ["job: XML"] = new("POST", "/jobs", Encoding.UTF8.GetBytes("<job><epochs>3</epochs></job>"), "application/xml"),
        ["jobs: PUT"] = new("PUT", "/jobs", Encoding.UTF8.GetBytes("{}")),
        ["models: PATCH"] = new("PATCH", "/models", Encoding.UTF8.GetBytes("{}")),
        ["jobs: DELETE without an id"] = new("DELETE", "/jobs"),
        // GET /jobs paging
        ["jobs: page 0"] = new("GET", "/jobs?page=0"),
        ["jobs: page -1"] = new("GET", "/jobs?page=-1"),
        ["jobs: pageSize 0"] = new("GET", "/jobs?pageSize=0"),
        ["jobs: pageSize 101"] = new("GET", "/jobs?pageSize=101"),
        ["jobs: page as text"] = new("GET", "/jobs?page=abc"),
        ["jobs: page past int"] = new("GET", "/jobs?page=99999999999"),
        ["jobs: pageSize in exponent form"] = new("GET", "/jobs?pageSize=1e3"),
        // job ids
        ["job get: unknown id"] = new("GET", $"/jobs/{UnknownId}"),
        ["job get: encoded traversal"] = new("GET", "/jobs/..%2F..%2Fetc%2Fpasswd"),
        ["job get: control character"] = new("GET", "/jobs/%01"),
        ["job get: RTL override"] = new("GET", "/jobs/%E2%80%AEabc"),
        ["job get: emoji"] = new("GET", "/jobs/%F0%9F%8E%AC"),
        ["job get: 5000 characters"] = new("GET", $"/jobs/{new string('a', 5000)}"),
        ["job metrics: unknown id"] = new("GET", "/jobs/nope/metrics"),
        ["job metrics: control characters"] = new("GET", "/jobs/%01%02%1B/metrics"),
        // cancel
        ["cancel: unknown id"] = new("DELETE", $"/jobs/{UnknownId}"),
        ["cancel: encoded backslash traversal"] = new("DELETE", "/jobs/..%5C..%5Cetc"),
        ["cancel: a finished job"] = new("DELETE", "/jobs/{done}"),
        ["cancel: upper-case id of the finished job"] = new("DELETE", "/jobs/{DONE}"),
        // activate
        ["activate: unknown id"] = new("POST", $"/models/{UnknownId}/activate"),
        ["activate: CR and LF"] = new("POST", "/models/%0D%0A/activate"),
        ["activate: Unicode id"] = new("POST", "/models/%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C/activate"),
        ["activate: with a JSON body it does not take"] = new("POST", $"/models/{UnknownId}/activate", Encoding.UTF8.GetBytes("""{"force":true}""")),
        // rankings
        ["ranking: user id as text"] = new("GET", "/users/abc/ranking"),
        ["ranking: fractional user id"] = new("GET", "/users/1.5/ranking"),
        ["ranking: user id past long"] = new("GET", "/users/99999999999999999999/ranking"),
        ["ranking: unknown user"] = new("GET", "/users/-1/ranking"),
        ["ranking: k 0"] = new("GET", "/users/1/ranking?k=0"),
        ["ranking: k -1"] = new("GET", "/users/1/ranking?k=-1"),
        ["ranking: k 10^9"] = new("GET", "/users/1/ranking?k=1000000000"),
        ["ranking: k past int"] = new("GET", "/users/1/ranking?k=99999999999"),
        ["ranking: k as text"] = new("GET", "/users/1/ranking?k=ten"),
        ["ranking: k NaN"] = new("GET", "/users/1/ranking?k=NaN"),
        ["ranking: dataset traversal"] = new("GET", "/users/1/ranking?dataset=..%2F..%2Fetc"),
        ["ranking: dataset NUL"] = new("GET", "/users/1/ranking?dataset=%00"),
        ["ranking: overlong dataset"] = new("GET", $"/users/1/ranking?dataset={new string('d', 2000)}"),
        ["ranking: unknown dataset"] = new("GET", "/users/1/ranking?dataset=ml-nope"),
        ["ranking: includeSeen maybe"] = new("GET", "/users/1/ranking?includeSeen=maybe"),
        ["ranking: POST"] = new("POST", "/users/1/ranking", Encoding.UTF8.GetBytes("{}")),
        // elsewhere
        ["unknown route"] = new("GET", "/jobz"),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    private async Task<(HttpStatusCode Status, string? ContentType, JsonElement? Problem)> SendAsync(string name)
    {
        BadRequest bad = Cases[name];
        bad = bad with { Url = bad.Url.Replace("{done}", service.Job.Id, StringComparison.Ordinal).Replace("{DONE}", service.Job.Id.ToUpperInvariant(), StringComparison.Ordinal) };
        using HttpRequestMessage message = bad.ToMessage();
        using HttpResponseMessage response = await service.Client.SendAsync(message);
        string body = await response.Content.ReadAsStringAsync();
        JsonElement? problem = null;
        try
        {
            problem = JsonDocument.Parse(body).RootElement.Clone();
        }
        catch (JsonException)
        {
        }
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, problem);
    }

    private static string? Check(string name, (HttpStatusCode Status, string? ContentType, JsonElement? Problem) answer)
    {
        int status = (int)answer.Status;
        if (status is < 400 or > 499)
        {
            return $"{name}: {status}, not a 4xx";
        }
        if (answer.ContentType != "application/problem+json")
        {
            return $"{name}: content type {answer.ContentType}";
        }
        if (answer.Problem is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty("status", out JsonElement s) || s.GetInt32() != status
            || !p.TryGetProperty("title", out JsonElement title) || string.IsNullOrWhiteSpace(title.GetString()))
        {
            return $"{name}: the body is not ProblemDetails with status {status} and a title";
        }
        return null;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task A_malformed_request_answers_4xx_problem_details(string name)
    {
        Assert.Null(Check(name, await SendAsync(name)));
    }

    [Fact]
    public void The_suite_holds_at_least_fifty_malformed_requests_across_every_endpoint()
    {
        Assert.True(Cases.Count >= 50, $"{Cases.Count} cases");
        string[] endpoints = ["POST /jobs", "GET /jobs?", "GET /jobs/", "DELETE /jobs/", "POST /models/", "GET /users/"];
        Assert.All(endpoints, e => Assert.Contains(Cases.Values, c => $"{c.Method} {c.Url}".StartsWith(e, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task After_every_malformed_request_earlier_artifacts_are_unchanged_and_the_service_still_trains_and_ranks()
    {
        SortedDictionary<string, string> before = service.HashArtifacts();
        Assert.Contains(before.Keys, k => k.EndsWith("best.manifest.json", StringComparison.Ordinal));
        RankingResponse rankingBefore = (await service.Client.GetFromJsonAsync<RankingResponse>("/users/5/ranking?k=10", ApiHost.Json))!;

        List<string> failures = [];
        foreach (string name in Cases.Keys)
        {
            if (Check(name, await SendAsync(name)) is { } failure)
            {
                failures.Add(failure);
            }
        }
        Assert.Empty(failures);

        Assert.Equal(before, service.HashArtifacts());
        JobView earlier = await ApiHost.GetJobAsync(service.Client, service.Job.Id);
        Assert.Equal(JobState.Succeeded, earlier.State);
        Assert.False(earlier.CancelRequested);
        RankingResponse rankingAfter = (await service.Client.GetFromJsonAsync<RankingResponse>("/users/5/ranking?k=10", ApiHost.Json))!;
        Assert.Equal(rankingBefore.Items.Select(i => i.MovieId), rankingAfter.Items.Select(i => i.MovieId));

        // Still trains: a new job succeeds and ranks.
        JobView queued = await ApiHost.PostJobAsync(service.Client, new { dataset = "synthetic", epochs = 2, seed = 11 });
        JobView trained = await ApiHost.WaitForStateAsync(service.Client, queued.Id, JobState.Succeeded);
        Assert.InRange(trained.BestValidation!["NDCG@10"], 0, 1);
        Assert.Equal(HttpStatusCode.OK, (await service.Client.PostAsync($"/models/{trained.Id}/activate", null)).StatusCode);
        RankingResponse ranking = (await service.Client.GetFromJsonAsync<RankingResponse>("/users/5/ranking?k=10", ApiHost.Json))!;
        Assert.Equal(trained.Id, ranking.ModelJobId);
        Assert.Equal(10, ranking.Items.Select(i => i.MovieId).Distinct().Count());
        Assert.Equal(ranking.Items.Select(i => i.Score).OrderByDescending(s => s), ranking.Items.Select(i => i.Score));
        Assert.All(ranking.Items, i => Assert.True(float.IsFinite((float)i.Score)));

        // Serving the new model rewrote the serving choice only; the earlier job's own files are untouched.
        SortedDictionary<string, string> after = service.HashArtifacts();
        after.Remove("serving.json");
        before.Remove("serving.json");
        Assert.Equal(before, after);
        // Give the serving choice back, so the other tests of this host rank with the earlier job.
        Assert.Equal(HttpStatusCode.OK, (await service.Client.PostAsync($"/models/{service.Job.Id}/activate", null)).StatusCode);
    }

    [Fact]
    public async Task An_unknown_field_is_named_with_the_known_fields()
    {
        HttpResponseMessage response = await service.Client.PostAsync("/jobs", new StringContent("""{"epoch":5}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string raw = await response.Content.ReadAsStringAsync();
        JsonElement errors = JsonDocument.Parse(raw).RootElement.TryGetProperty("errors", out JsonElement e) ? e : throw new InvalidOperationException(raw);
        string message = errors.GetProperty("epoch")[0].GetString()!;
        Assert.Contains("Unknown field 'epoch'", message, StringComparison.Ordinal);
        Assert.Contains("epochs", message, StringComparison.Ordinal);
        Assert.Contains("learningRate", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_overlong_value_is_named_without_being_quoted_back_in_full()
    {
        HttpResponseMessage response = await service.Client.PostAsync("/jobs", new StringContent($$"""{"dataset":"{{Long}}","loss":"{{Long}}"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Length < 2000, $"{body.Length} characters");
        JsonElement errors = JsonDocument.Parse(body).RootElement.GetProperty("errors");
        Assert.Contains("at most 200 characters; got 10000", errors.GetProperty("dataset")[0].GetString(), StringComparison.Ordinal);
        // A choice is refused by its allowed values, the text cut short.
        Assert.Contains("Unknown loss 'xxxx", errors.GetProperty("loss")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("... (10000 characters)'. Use one of: listmle,", errors.GetProperty("loss")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_cancels_of_one_queued_job_cancel_it_once_and_of_a_running_job_stop_it()
    {
        HttpClient client = service.Client;
        // The one worker trains a long job, so the second waits in the queue.
        JobView running = await ApiHost.PostJobAsync(client, new { dataset = "synthetic", epochs = 10_000, patience = 0 });
        await ApiHost.WaitForStateAsync(client, running.Id, JobState.Running);
        JobView queued = await ApiHost.PostJobAsync(client, new { dataset = "synthetic", epochs = 2 });

        HttpStatusCode[] onQueued = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ => (await client.DeleteAsync($"/jobs/{queued.Id}")).StatusCode));
        Assert.Single(onQueued, s => s == HttpStatusCode.OK);
        Assert.All(onQueued.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.Conflict, s));
        Assert.Equal(JobState.Cancelled, (await ApiHost.GetJobAsync(client, queued.Id)).State);

        HttpStatusCode[] onRunning = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ => (await client.DeleteAsync($"/jobs/{running.Id}")).StatusCode));
        Assert.Contains(HttpStatusCode.Accepted, onRunning);
        Assert.All(onRunning, s => Assert.True(s is HttpStatusCode.Accepted or HttpStatusCode.Conflict, s.ToString()));
        JobView stopped = await ApiHost.WaitForAsync(client, running.Id, j => j.State.IsFinished() || j.Error is not null);
        Assert.Equal(JobState.Cancelled, stopped.State);

        HttpResponseMessage again = await client.DeleteAsync($"/jobs/{running.Id}");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
    }
}
