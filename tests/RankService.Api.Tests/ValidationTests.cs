using System.Text;

namespace RankService.Api.Tests;

public sealed class ValidationTests(EmptyService service) : IClassFixture<EmptyService>
{
    private readonly HttpClient _client = service.Client;

    [Theory]
    [InlineData("dataset", """{"dataset":"ml-nope"}""", "Configured data sets")]
    [InlineData("loss", """{"loss":"lambdamart"}""", "listmle")]
    [InlineData("hybridFirst", """{"loss":"hybrid","hybridFirst":"hybrid"}""", "Use one of: listmle, pairwise-logistic, listnet")]
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
    [InlineData("learningRate", """{"learningRate":0}""", "between 1e-07 and 10")]
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
    [InlineData("epochs", """{"epochs":"ten"}""", "epochs takes a whole number; got a JSON string")]
    [InlineData("epochs", """{"epochs":2.5}""", "epochs takes a whole number; '2.5' is not one")]
    [InlineData("hiddenSizes", """{"hiddenSizes":[64,"x"]}""", "hiddenSizes takes whole numbers")]
    [InlineData("itemBias", """{"itemBias":"yes"}""", "itemBias takes true or false")]
    [InlineData("training.epochs", """{"training":{"epochs":"ten"}}""", "training.epochs takes a whole number")]
    [InlineData("training.epoch", """{"training":{"epoch":5}}""", "Unknown field 'training.epoch'")]
    [InlineData("training", """{"training":[1]}""", "training takes a JSON object")]
    public async Task Each_invalid_field_is_named_in_a_400_with_its_allowed_range_or_the_type_it_takes(string field, string body, string allowed)
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
    [InlineData("""{"dataset":"ml-nope","lambdaMu":null,"loss":null,"hiddenSizes":null}""")]
    [InlineData("""{"dataset":"ml-nope","training":{"hybridFirst":null,"loss":null,"head":null,"device":null,"hiddenSizes":null}}""")]
    [InlineData("""{"dataset":"ml-nope","training":null}""")]
    public async Task A_json_null_for_any_option_is_the_same_as_leaving_it_out(string body)
    {
        // The data set is unknown so that no job starts: the answer names it alone, and no null became a 500.
        HttpResponseMessage response = await _client.PostAsync("/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["dataset"], errors.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Choices_match_in_any_case_and_a_posted_training_config_is_checked_like_the_top_level_fields()
    {
        HttpResponseMessage response = await _client.PostAsync("/jobs", new StringContent(
            """{"dataset":"ml-nope","loss":"LISTMLE","lambdaWeighting":"LambdaRank","training":{"epochs":0}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["dataset", "epochs"], errors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task The_openapi_schema_of_a_job_request_lists_every_training_option_with_its_range_or_values()
    {
        JsonElement doc = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        JsonElement schemas = doc.GetProperty("components").GetProperty("schemas");
        JsonElement request = schemas.GetProperty("JobRequest").GetProperty("properties");
        JsonElement lambdaMu = request.GetProperty("lambdaMu");
        Assert.Equal("number", lambdaMu.GetProperty("type").GetString());
        Assert.Equal(0, lambdaMu.GetProperty("minimum").GetDouble());
        Assert.Equal(1000, lambdaMu.GetProperty("maximum").GetDouble());
        Assert.Equal(10, lambdaMu.GetProperty("default").GetDouble());
        Assert.Contains("lambda-loss", lambdaMu.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(["ndcg-loss2++", "lambdarank"], request.GetProperty("lambdaWeighting").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(8, request.GetProperty("hiddenSizes").GetProperty("maxItems").GetInt32());
        Assert.Contains("listmle", request.GetProperty("loss").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.False(request.TryGetProperty("options", out _));
        Assert.False(request.TryGetProperty("threads", out _)); // a setting of the worker, not of the job
        foreach (string field in new[] { "dataset", "fromModel", "training", "epochs", "learningRate", "softmaxReduction", "tripletMining" })
        {
            Assert.True(request.TryGetProperty(field, out _), field);
        }
        Assert.Equal(1000, schemas.GetProperty("TrainingOptions").GetProperty("properties").GetProperty("lambdaMu").GetProperty("maximum").GetDouble());
    }

    [Theory]
    [InlineData("""{"epochs":3,"epochs":4}""", "epochs")]
    [InlineData("""{"training":{"epochs":3,"epochs":4}}""", "training")]
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
