using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;

namespace RankService.Api.Tests;

/// <summary>
/// Requests an attacker or a clumsy client would send, to every route of a host that has trained one model: none
/// answers 5xx, every error is ProblemDetails in the API's words (no .NET names), and echoed input is capped.
/// </summary>
public sealed partial class HostileInputTests(BadInputService service) : IClassFixture<BadInputService>
{
    private const string UnknownId = "0123456789abcdef0123456789abcdef";

    private static string Big(int n) => new('x', n);

    /// <summary>Hostile requests to every route; "{done}" is the trained job's id. Any status below 500 may answer.</summary>
    public static readonly IReadOnlyList<BadRequest> Everywhere =
    [
        // GET /jobs paging: repeated, huge, odd
        new("GET", "/jobs?pageSize=5&pageSize=6"),
        new("GET", "/jobs?page=1&page=2"),
        new("GET", "/jobs?pageSize=-2147483648"),
        new("GET", "/jobs?pageSize=%00"),
        new("GET", "/jobs?page=%E2%80%AE1"),
        new("GET", "/jobs?page=1.0"),
        new("GET", "/jobs?page=0x10"),
        new("GET", "/jobs?page=" + Big(4000)),
        new("GET", "/jobs?" + string.Join("&", Enumerable.Range(0, 500).Select(i => $"p{i}=1"))),
        new("GET", "/jobs?" + string.Join("&", Enumerable.Range(0, 300).Select(_ => "page=1"))),
        // job ids
        new("GET", "/jobs/..%2F..%2F..%2Fetc%2Fpasswd"),
        new("GET", "/jobs/%2E%2E"),
        new("GET", "/jobs/.."),
        new("GET", "/jobs/%5C%5Cserver%5Cshare"),
        new("GET", "/jobs/C%3A%5Cwindows"),
        new("GET", "/jobs/%0D%0Aforged"),
        new("GET", "/jobs/%1B%5B31mred"),
        new("GET", "/jobs/{done}/metrics/../metrics"),
        new("GET", "/jobs/%20{done}"),
        new("GET", "/jobs/" + Big(3000) + "/metrics"),
        new("DELETE", "/jobs/..%2F{done}"),
        new("DELETE", "/jobs/%2E%2E%2Fserving.json"),
        // models
        new("GET", "/models/..%2Fserving.json"),
        new("GET", "/models/{done}/embeddings?side=&format="),
        new("GET", "/models/{done}/embeddings?side=users&side=items"),
        new("GET", "/models/{done}/embeddings?format=csv&format=npy"),
        new("GET", "/models/{done}/embeddings?side=" + Big(5000)),
        new("GET", "/models/{done}/embeddings?side=%0D%0A&format=%1B"),
        new("GET", "/models/{done}/embeddings?side=USERS"),
        new("GET", "/models/{done}/embeddings?side=users&format=bias-npy"),
        new("GET", "/models/..%2F..%2Fetc/embeddings"),
        new("POST", "/models/..%2F{done}/activate"),
        new("POST", "/models/{done}%2F..%2F{done}/activate"),
        // rankings
        new("GET", "/users/1/ranking?k=-1&k=99999999"),
        new("GET", "/users/1/ranking?k=99999999"),
        new("GET", "/users/1/ranking?k=2147483648"),
        new("GET", "/users/1/ranking?k=%20"),
        new("GET", "/users/1/ranking?k="),
        new("GET", "/users/1/ranking?includeSeen=&dataset="),
        new("GET", "/users/1/ranking?includeSeen=true&includeSeen=false"),
        new("GET", "/users/1/ranking?dataset=synthetic&dataset=ml-100k"),
        new("GET", "/users/%20/ranking"),
        new("GET", "/users/9223372036854775807/ranking"),
        new("GET", "/users/-9223372036854775808/ranking"),
        new("GET", "/users/..%2F..%2Fetc/ranking"),
        new("GET", "/users/" + Big(3000) + "/ranking"),
        // bodies: nulls, nested unknowns, charsets, odd media types, empty bodies
        BadRequest.Json("""{"training":{"hybridFirst":null}}"""),
        BadRequest.Json("""{"dataset":"synthetic","epochs":1,"training":{"hybridFirst":null}}"""),
        BadRequest.Json("""{"training":{"loss":null}}"""),
        BadRequest.Json("""{"training":{"hiddenSizes":null}}"""),
        BadRequest.Json("""{"training":{"hiddenSizes":[null]}}"""),
        BadRequest.Json("""{"training":{"epoch":3}}"""),
        BadRequest.Json("""{"training":[]}"""),
        BadRequest.Json("""{"training":"x"}"""),
        BadRequest.Json("""{"hiddenSizes":[null]}"""),
        BadRequest.Json("null"),
        BadRequest.Json(""),
        BadRequest.Json("   "),
        BadRequest.Json("{\"" + Big(20_000) + "\":1}"),
        BadRequest.Json("{\"training\":{\"" + Big(20_000) + "\":1}}"),
        BadRequest.Json("""{"epochs":1,"dataset":"synthetic","training":{"epochs":"x"}}"""),
        new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), "application/json; charset=bogus"),
        new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), "application/json; charset=utf-7"),
        new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), "application/json; charset=\"\""),
        new("POST", "/jobs", Encoding.Unicode.GetBytes("""{"epochs":0}"""), "application/json; charset=utf-16"),
        new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), "application/problem+json; charset=bogus"),
        new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), "text/plain; charset=bogus"),
        new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), "multipart/form-data; boundary=x"),
        new("POST", "/jobs", [], "application/json"),
        new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), null),
        new("POST", $"/models/{UnknownId}/activate", Encoding.UTF8.GetBytes("x"), "application/json; charset=bogus"),
        new("DELETE", $"/jobs/{UnknownId}", Encoding.UTF8.GetBytes("{}"), "application/json; charset=utf-7"),
        // methods
        new("OPTIONS", "/jobs"),
        new("TRACE", "/jobs"),
        new("PATCH", "/jobs/{done}"),
        new("PUT", "/models/{done}/activate"),
        new("HEAD", "/users/1/ranking"),
        new("GET", "/hangfire/../jobs"),
    ];

    public static TheoryData<int> Indices => [.. Enumerable.Range(0, Everywhere.Count)];

    private async Task<(HttpStatusCode Status, string? MediaType, string Body)> SendAsync(BadRequest bad, Action<HttpRequestMessage>? configure = null)
    {
        bad = bad with { Url = bad.Url.Replace("{done}", service.Job.Id, StringComparison.Ordinal) };
        using HttpRequestMessage message = bad.ToMessage();
        configure?.Invoke(message);
        using HttpResponseMessage response = await service.Client.SendAsync(message);
        return (response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Null when the answer is fine: below 500, and an error is ProblemDetails without .NET names and not bloated by echoes.</summary>
    private static string? Check(BadRequest bad, (HttpStatusCode Status, string? MediaType, string Body) answer)
    {
        string what = $"{bad.Method} {(bad.Url.Length > 80 ? bad.Url[..80] + "..." : bad.Url)} {bad.ContentType}";
        int status = (int)answer.Status;
        if (status >= 500)
        {
            return $"{what}: {status} {answer.Body}";
        }
        if (status < 400 || bad.Method == "HEAD")
        {
            return null;
        }
        if (answer.MediaType != "application/problem+json")
        {
            return $"{what}: {status} as {answer.MediaType}";
        }
        if (DotNetName().Match(answer.Body) is { Success: true } name)
        {
            return $"{what}: shows the .NET name '{name.Value}': {answer.Body}";
        }
        if (answer.Body.Length > 3000)
        {
            return $"{what}: {answer.Body.Length} characters of answer";
        }
        return null;
    }

    [GeneratedRegex("""System\.|Microsoft\.|RankService\.|`1|\bInt32\b|\bInt64\b|"long |"int |\bNullable\b""")]
    private static partial Regex DotNetName();

    [Theory]
    [MemberData(nameof(Indices))]
    public async Task A_hostile_request_to_any_route_answers_below_500_with_problem_details_in_the_apis_words(int index)
    {
        Assert.Null(Check(Everywhere[index], await SendAsync(Everywhere[index])));
    }

    [Fact]
    public async Task The_malformed_requests_of_the_bad_input_suite_answer_in_the_apis_words_too()
    {
        List<string> failures = [];
        foreach (BadRequest bad in BadInputTests.Cases.Values)
        {
            if (Check(bad, await SendAsync(bad)) is { } failure)
            {
                failures.Add(failure);
            }
        }
        Assert.Empty(failures);
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("image/png")]
    [InlineData("application/xml")]
    public async Task A_client_that_accepts_no_json_still_gets_no_500(string accept)
    {
        foreach (BadRequest bad in new BadRequest[] { new("GET", "/jobs?page=x"), new("GET", "/jobs/nope"), BadRequest.Json("{"), new("POST", "/jobs", [], "application/json; charset=bogus"), new("GET", "/nowhere") })
        {
            (HttpStatusCode status, _, string body) = await SendAsync(bad, m => m.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept)));
            Assert.InRange((int)status, 400, 499);
            Assert.DoesNotMatch(DotNetName(), body);
        }
    }

    [Fact]
    public async Task A_null_training_option_means_its_default_and_a_null_request_field_elsewhere_is_named()
    {
        // The issue's 500: a null hybridFirst inside "training". A null option is the same as leaving it out.
        (HttpStatusCode status, _, string body) = await SendAsync(BadRequest.Json("""{"dataset":"synthetic","epochs":1,"training":{"hybridFirst":null}}"""));
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("listmle", JsonDocument.Parse(body).RootElement.GetProperty("options").GetProperty("hybridFirst").GetString());
        // Nulls for the request's own fields mean their defaults too: the configured data set, no model, no config.
        (status, _, body) = await SendAsync(BadRequest.Json("""{"dataset":null,"fromModel":null,"training":null,"epochs":1}"""));
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("synthetic", JsonDocument.Parse(body).RootElement.GetProperty("dataset").GetString());
    }

    [Theory]
    [InlineData("application/json; charset=bogus", "bogus")]
    [InlineData("application/json; charset=utf-7", "utf-7")]
    [InlineData("application/json; charset=\"\"", "")]
    [InlineData("application/json; charset=utf-16", "utf-16")]
    public async Task A_json_body_in_another_charset_than_utf8_is_refused_with_415_naming_it(string contentType, string charset)
    {
        (HttpStatusCode status, string? media, string body) = await SendAsync(new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), contentType));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("application/problem+json", media);
        Assert.Contains($"got charset '{charset}'", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=utf8")]
    [InlineData("application/json")]
    public async Task A_utf8_json_body_is_read_whichever_way_the_charset_is_spelt(string contentType)
    {
        // epochs 0 is read, then refused by validation: the body got through decoding.
        (HttpStatusCode status, _, string body) = await SendAsync(new("POST", "/jobs", Encoding.UTF8.GetBytes("""{"epochs":0}"""), contentType));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty("epochs", out _), body);
    }

    [Theory]
    [InlineData("/jobs?page=abc", "page", "page must be a whole number from -2147483648 to 2147483647; got 'abc'.")]
    [InlineData("/jobs?pageSize=1e3", "pageSize", "pageSize must be a whole number from -2147483648 to 2147483647; got '1e3'.")]
    [InlineData("/users/5/ranking?k=ten", "k", "k must be a whole number from -2147483648 to 2147483647; got 'ten'.")]
    [InlineData("/users/5/ranking?includeSeen=maybe", "includeSeen", "includeSeen must be true or false; got 'maybe'.")]
    public async Task An_unbindable_query_parameter_is_named_in_the_apis_words(string url, string field, string message)
    {
        (HttpStatusCode status, _, string body) = await SendAsync(new("GET", url));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, JsonDocument.Parse(body).RootElement.GetProperty("errors").GetProperty(field)[0].GetString());
    }

    [Theory]
    [InlineData("""{"epochs":"3"}""", "epochs", "epochs takes a whole number; got a JSON string")]
    [InlineData("""{"itemBias":"yes"}""", "itemBias", "itemBias takes true or false; got a JSON string")]
    [InlineData("""{"hiddenSizes":[64,"x"]}""", "hiddenSizes", "hiddenSizes takes whole numbers")]
    [InlineData("""{"hiddenSizes":"64"}""", "hiddenSizes", "hiddenSizes takes whole numbers (a JSON a")]
    [InlineData("""{"training":{"epoch":3}}""", "training.epoch", "Unknown field 'training.epoch'. Known fields: protocol, splitSeed, loss, ")]
    [InlineData("""{"training":{"seed":1,"seed":2}}""", "training.seed", "training.seed appears more than once.")]
    public async Task A_body_field_of_the_wrong_type_is_named_by_its_path_in_the_apis_words(string json, string field, string message)
    {
        (HttpStatusCode status, _, string body) = await SendAsync(BadRequest.Json(json));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(message, JsonDocument.Parse(body).RootElement.GetProperty("errors").GetProperty(field)[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_overlong_field_name_and_value_are_echoed_cut_to_200_characters()
    {
        string name = new('n', 20_000);
        (HttpStatusCode status, _, string body) = await SendAsync(BadRequest.Json($$"""{"{{name}}":1}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body.Length < 3000, $"{body.Length} characters");
        Assert.Contains(new string('n', 200) + "…", body, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('n', 201), body, StringComparison.Ordinal);

        (status, _, body) = await SendAsync(new("GET", "/jobs?page=" + new string('7', 5000)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(new string('7', 200) + "…", body, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('7', 201), body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("05")]
    [InlineData("+5")]
    [InlineData("%205")]
    [InlineData("5%20")]
    [InlineData("5.0")]
    [InlineData("0x5")]
    [InlineData("%EF%BC%95")] // a full-width digit five
    public async Task A_user_id_is_matched_as_the_data_set_spells_it(string spelling)
    {
        (HttpStatusCode ok, _, _) = await SendAsync(new("GET", "/users/5/ranking"));
        Assert.Equal(HttpStatusCode.OK, ok);
        (HttpStatusCode status, string? media, string body) = await SendAsync(new("GET", $"/users/{spelling}/ranking"));
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("application/problem+json", media);
        Assert.Contains($"User '{Uri.UnescapeDataString(spelling)}' is not in the data set", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
