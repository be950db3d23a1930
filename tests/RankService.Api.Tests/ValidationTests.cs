using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace RankService.Api.Tests;

public sealed class ValidationTests(EmptyService service) : IClassFixture<EmptyService>
{
    private readonly HttpClient _client = service.Client;

    [Theory]
    [InlineData("dataset", """{"dataset":"ml-nope"}""", "Configured data sets")]
    [InlineData("loss", """{"loss":"lambdamart"}""", "listmle")]
    [InlineData("hybridFirst", """{"loss":"hybrid","hybridFirst":"hybrid"}""", "other than hybrid")]
    [InlineData("hybridSecond", """{"hybridSecond":"nope"}""", "softmax")]
    [InlineData("margin", """{"margin":-1}""", "between 0 and 100")]
    [InlineData("temperature", """{"temperature":0}""", "between 0.0001 and 100")]
    [InlineData("lambdaWeighting", """{"lambdaWeighting":"ndcg-loss1"}""", "ndcg-loss2++, lambdarank")]
    [InlineData("lambdaMu", """{"lambdaMu":-1}""", "between 0 and 1000")]
    [InlineData("lambdaK", """{"lambdaK":-1}""", "between 0 and 100000")]
    [InlineData("softmaxSamples", """{"softmaxSamples":-5}""", "between 0 and 1000000")]
    [InlineData("softmaxReduction", """{"softmaxReduction":"max"}""", "mean, sum")]
    [InlineData("tripletForm", """{"tripletForm":"cosine"}""", "dot, distance")]
    [InlineData("tripletMining", """{"tripletMining":"easy"}""", "random, hard, semi-hard")]
    [InlineData("tripletThreshold", """{"tripletThreshold":0}""", "between 0.5 and 100")]
    [InlineData("alpha", """{"alpha":1.5}""", "between 0 and 1")]
    [InlineData("epochs", """{"epochs":0}""", "between 1 and 10000")]
    [InlineData("batchSize", """{"batchSize":0}""", "between 1 and 65536")]
    [InlineData("learningRate", """{"learningRate":0}""", "between 1E-07 and 10")]
    [InlineData("weightDecay", """{"weightDecay":-1}""", "between 0 and 1")]
    [InlineData("head", """{"head":"transformer"}""", "dot")]
    [InlineData("embeddingDim", """{"embeddingDim":5000}""", "between 1 and 4096")]
    [InlineData("hiddenSizes", """{"hiddenSizes":[0]}""", "between 1 and 8192")]
    [InlineData("dropout", """{"dropout":0.99}""", "between 0 and 0.95")]
    [InlineData("negativesPerList", """{"negativesPerList":-1}""", "between 0 and 100000")]
    [InlineData("maxListSize", """{"maxListSize":0}""", "between 1 and 100000")]
    [InlineData("pairsPerList", """{"pairsPerList":-1}""", "between 0 and 1000000")]
    [InlineData("patience", """{"patience":-1}""", "between 0 and 10000")]
    [InlineData("gradientClipNorm", """{"gradientClipNorm":-1}""", "between 0 and 1000000")]
    [InlineData("embeddingUpdates", """{"embeddingUpdates":"sparse"}""", "auto, dense, lazy")]
    [InlineData("device", """{"device":"tpu"}""", "auto, cpu, cuda")]
    [InlineData("protocol", """{"protocol":"random"}""", "temporal, recbole")]
    public async Task Each_invalid_field_is_named_in_a_400_with_its_allowed_range(string field, string body, string allowed)
    {
        HttpResponseMessage response = await _client.PostAsync("/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal([field], errors.EnumerateObject().Select(p => p.Name));
        Assert.Contains(allowed, errors.GetProperty(field)[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Several_invalid_fields_are_all_named()
    {
        HttpResponseMessage response = await _client.PostAsJsonAsync("/jobs", new { epochs = -1, dropout = 2.0, loss = "nope" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["dropout", "epochs", "loss"], errors.EnumerateObject().Select(p => p.Name).Order());
    }

    [Theory]
    [InlineData("""{"epochs":"ten"}""", "epochs must be a whole number")]
    [InlineData("""{"epochs":""", "The body is not valid JSON (line 1")]
    [InlineData("""[1,2]""", "The body must be a JSON object.")]
    public async Task Malformed_json_answers_400_problem_details_not_500(string body, string says)
    {
        HttpResponseMessage response = await _client.PostAsync("/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        string detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains(says, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ranking_before_any_model_answers_503_telling_to_post_a_job()
    {
        HttpResponseMessage response = await _client.GetAsync("/users/1/ranking");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        string detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("POST /jobs", detail, StringComparison.Ordinal);
        Assert.Contains("synthetic", detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    public async Task A_k_below_one_answers_400_naming_k_even_before_any_model(string k)
    {
        HttpResponseMessage response = await _client.GetAsync($"/users/1/ranking?k={k}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains($"got {k}", errors.GetProperty("k")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_service_is_ready_with_no_model_and_lists_no_jobs_or_models()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/ready")).StatusCode);
        JsonElement jobs = await _client.GetFromJsonAsync<JsonElement>("/jobs");
        Assert.Equal(0, jobs.GetProperty("total").GetInt32());
        JsonElement models = await _client.GetFromJsonAsync<JsonElement>("/models");
        Assert.Equal(0, models.GetArrayLength());
    }

    [Fact]
    public async Task An_unknown_route_answers_404_problem_details()
    {
        HttpResponseMessage response = await _client.GetAsync("/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_hangfire_dashboard_refuses_requests_not_from_localhost()
    {
        // The test server's requests carry no remote address, so they do not count as local.
        HttpResponseMessage response = await _client.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
