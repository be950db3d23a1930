using System.Globalization;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Model;

namespace RankService.Api.Tests;

/// <summary>One host that has trained one job on the synthetic set; the tests read it back through HTTP.</summary>
public sealed class TrainedService() : ServiceFixture(trainFirst: new { dataset = "synthetic", epochs = 3 })
{
    public RatingDataset Data { get; } = SyntheticMovieLens.Generate(ApiHost.Synthetic);

    /// <summary>Ids of the movies a user rated.</summary>
    public HashSet<string> Rated(long rawUser)
    {
        int user = Data.Users.ToIndex(rawUser);
        return Data.Ratings.Where(r => r.User == user).Select(r => Data.Items.ToId(r.Item)).ToHashSet();
    }
}

public sealed class TrainedServiceTests(TrainedService service) : IClassFixture<TrainedService>
{
    private readonly HttpClient _client = service.Client;

    [Fact]
    public void A_job_on_synthetic_data_succeeds_with_a_best_checkpoint_and_full_progress()
    {
        JobView job = service.Job;
        Assert.Equal("synthetic", job.Dataset);
        Assert.Equal(3, job.Progress.Epoch);
        Assert.Equal(3, job.Progress.TotalEpochs);
        Assert.Equal(100, job.Progress.Percent);
        Assert.InRange(job.BestEpoch, 1, 3);
        Assert.Equal("checkpoints/best.manifest.json", job.Checkpoint);
        Assert.True(File.Exists(Path.Combine(service.Host.ArtifactsRoot, "jobs", job.Id, "checkpoints", "best.manifest.json")));
        Assert.InRange(job.BestValidation!["NDCG@10"], 0, 1);
        Assert.Null(job.Error);
        Assert.NotNull(job.StartedAt);
        Assert.True(job.FinishedAt >= job.StartedAt);
    }

    [Fact]
    public async Task Metrics_hold_one_entry_per_epoch_and_test_and_popularity_when_done()
    {
        JobMetrics metrics = (await _client.GetFromJsonAsync<JobMetrics>($"/jobs/{service.Job.Id}/metrics", ApiHost.Json))!;
        Assert.Equal([1, 2, 3], metrics.Epochs.Select(e => e.Epoch));
        Assert.All(metrics.Epochs, e =>
        {
            Assert.True(double.IsFinite(e.TrainLoss) && e.TrainLoss > 0);
            Assert.InRange(e.Validation["NDCG@10"], 0, 1);
            Assert.True(e.EpochSeconds > 0);
        });
        Assert.Equal(metrics.Epochs.Where(e => e.IsBest).Max(e => e.Epoch), metrics.BestEpoch);
        Assert.InRange(metrics.Test!["NDCG@10"], 0, 1);
        Assert.InRange(metrics.PopularityTest!["HR@10"], 0, 1);
        Assert.InRange(metrics.PopularityValidation!["NDCG@10"], 0, 1);
    }

    [Fact]
    public async Task A_ranking_leaves_out_rated_movies_and_is_sorted_by_score()
    {
        RankingResponse ranking = (await _client.GetFromJsonAsync<RankingResponse>("/users/5/ranking?k=20", ApiHost.Json))!;
        Assert.Equal("5", ranking.UserId);
        Assert.Equal(service.Job.Id, ranking.ModelJobId);
        Assert.Equal("synthetic", ranking.Dataset);
        Assert.Equal(Enumerable.Range(1, 20), ranking.Items.Select(i => i.Rank));
        HashSet<string> rated = service.Rated(5);
        Assert.DoesNotContain(ranking.Items, i => rated.Contains(i.ItemId));
        Assert.All(ranking.Items, i => Assert.Equal(long.Parse(i.ItemId, CultureInfo.InvariantCulture), i.MovieId));
        Assert.Equal(ranking.Items.Select(i => i.Score).OrderByDescending(s => s), ranking.Items.Select(i => i.Score));
        Assert.Equal(20, ranking.Items.Select(i => i.ItemId).Distinct().Count());
        Assert.All(ranking.Items, i => Assert.Equal(service.Data.Catalogue[service.Data.Items.ToIndex(i.ItemId)].Title, i.Title));
    }

    [Fact]
    public async Task A_ranking_equals_the_top_k_of_the_checkpoints_own_forward_pass()
    {
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(Path.Combine(service.Host.ArtifactsRoot, "jobs", service.Job.Id, "checkpoints", "best.manifest.json"));
        using var reference = new ModelScorer(checkpoint.Model); // the torch forward pass, not the serving fast path
        HashSet<string> rated = service.Rated(7);
        var scores = new float[reference.ItemCount];
        reference.Score([checkpoint.Ids.UserIds.ToList().IndexOf("7")], scores);
        var expected = Enumerable.Range(0, scores.Length)
            .Where(i => !rated.Contains(checkpoint.Ids.ItemIds[i]))
            .OrderByDescending(i => scores[i]).ThenBy(i => i)
            .Take(15)
            .ToList();

        RankingResponse ranking = (await _client.GetFromJsonAsync<RankingResponse>("/users/7/ranking?k=15", ApiHost.Json))!;
        Assert.Equal(expected.Select(i => checkpoint.Ids.ItemIds[i]), ranking.Items.Select(i => i.ItemId));
        Assert.All(ranking.Items.Zip(expected), p => Assert.Equal(scores[p.Second], p.First.Score, 1e-5));
    }

    [Fact]
    public async Task With_includeSeen_the_whole_catalogue_can_be_ranked_rated_movies_included()
    {
        int catalogue = service.Data.ItemCount;
        RankingResponse ranking = (await _client.GetFromJsonAsync<RankingResponse>($"/users/5/ranking?k={catalogue}&includeSeen=true", ApiHost.Json))!;
        Assert.Equal(catalogue, ranking.Items.Count);
        Assert.True(ranking.IncludeSeen);
        Assert.Subset(ranking.Items.Select(i => i.ItemId).ToHashSet(), service.Rated(5));
    }

    [Fact]
    public async Task Without_includeSeen_the_ranking_holds_only_unrated_movies_when_k_exceeds_them()
    {
        int catalogue = service.Data.ItemCount;
        RankingResponse ranking = (await _client.GetFromJsonAsync<RankingResponse>($"/users/5/ranking?k={catalogue}", ApiHost.Json))!;
        Assert.Equal(catalogue - service.Rated(5).Count, ranking.Items.Count);
    }

    [Fact]
    public async Task The_default_k_is_ten()
    {
        RankingResponse ranking = (await _client.GetFromJsonAsync<RankingResponse>("/users/1/ranking", ApiHost.Json))!;
        Assert.Equal(10, ranking.Items.Count);
        Assert.Equal(10, ranking.K);
    }

    [Fact]
    public async Task An_unknown_user_answers_404_with_a_message()
    {
        HttpResponseMessage response = await _client.GetAsync("/users/987654/ranking");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("User '987654'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-3")]
    [InlineData("100000")]
    public async Task A_k_outside_one_to_the_catalogue_size_answers_400_naming_k(string k)
    {
        HttpResponseMessage response = await _client.GetAsync($"/users/1/ranking?k={k}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        string message = problem.GetProperty("errors").GetProperty("k")[0].GetString()!;
        Assert.Contains($"between 1 and {service.Data.ItemCount}", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/users/1/ranking?k=ten")]
    [InlineData("/users/1/ranking?includeSeen=maybe")]
    [InlineData("/jobs?page=x")]
    public async Task Unparsable_parameters_answer_400_problem_details_not_500(string url)
    {
        HttpResponseMessage response = await _client.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        // In the API's words ("k must be a whole number ..."), not the framework's ("Failed to bind parameter "int? k"").
        string detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains(" must be ", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Failed to bind", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ranking_for_an_unconfigured_dataset_answers_400_naming_dataset()
    {
        HttpResponseMessage response = await _client.GetAsync("/users/1/ranking?dataset=ml-nope");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("ml-nope", problem.GetProperty("errors").GetProperty("dataset")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_finished_job_answers_409()
    {
        HttpResponseMessage response = await _client.DeleteAsync($"/jobs/{service.Job.Id}");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        JsonElement problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("succeeded", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(JobState.Succeeded, (await ApiHost.GetJobAsync(_client, service.Job.Id)).State);
    }

    [Theory]
    [InlineData("GET", "/jobs/0123456789abcdef0123456789abcdef")]
    [InlineData("GET", "/jobs/not-a-job/metrics")]
    [InlineData("DELETE", "/jobs/0123456789abcdef0123456789abcdef")]
    [InlineData("POST", "/models/0123456789abcdef0123456789abcdef/activate")]
    [InlineData("GET", "/jobs/..%2F..%2Fetc")]
    public async Task An_unknown_job_answers_404_problem_details(string method, string url)
    {
        HttpResponseMessage response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), url));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Models_list_the_trained_model_as_serving_and_it_can_be_activated_again()
    {
        List<ModelView> models = (await _client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        ModelView model = Assert.Single(models);
        Assert.Equal(service.Job.Id, model.JobId);
        Assert.True(model.Serving);
        Assert.Equal(service.Job.BestValidation!["NDCG@10"], model.Validation!["NDCG@10"]);

        HttpResponseMessage response = await _client.PostAsync($"/models/{service.Job.Id}/activate", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        ModelView activated = (await response.Content.ReadFromJsonAsync<ModelView>(ApiHost.Json))!;
        Assert.True(activated.Serving);
        RankingResponse ranking = (await _client.GetFromJsonAsync<RankingResponse>("/users/2/ranking?k=3", ApiHost.Json))!;
        Assert.Equal(service.Job.Id, ranking.ModelJobId);
    }

    [Fact]
    public async Task The_job_list_pages_newest_first()
    {
        JobPage page = (await _client.GetFromJsonAsync<JobPage>("/jobs?page=1&pageSize=1", ApiHost.Json))!;
        Assert.Equal(1, page.Total);
        Assert.Equal(service.Job.Id, Assert.Single(page.Items).Id);
        JobPage second = (await _client.GetFromJsonAsync<JobPage>("/jobs?page=2&pageSize=1", ApiHost.Json))!;
        Assert.Empty(second.Items);

        HttpResponseMessage bad = await _client.GetAsync("/jobs?pageSize=1000");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Health_is_live_and_ready_once_the_model_is_loaded()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/health/live")).StatusCode);
        HttpResponseMessage ready = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_with_its_responses()
    {
        JsonElement doc = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        JsonElement paths = doc.GetProperty("paths");
        JsonElement post = paths.GetProperty("/jobs").GetProperty("post");
        Assert.Equal("CreateJob", post.GetProperty("operationId").GetString());
        Assert.Equal("Start a training job", post.GetProperty("summary").GetString());
        Assert.True(post.GetProperty("responses").TryGetProperty("202", out _));
        Assert.True(post.GetProperty("responses").TryGetProperty("400", out _));
        JsonElement ranking = paths.GetProperty("/users/{id}/ranking").GetProperty("get").GetProperty("responses");
        Assert.All(new[] { "200", "400", "404", "503" }, code => Assert.True(ranking.TryGetProperty(code, out _), code));
        Assert.True(paths.GetProperty("/jobs/{id}").GetProperty("delete").GetProperty("responses").TryGetProperty("409", out _));
        Assert.True(paths.TryGetProperty("/models/{id}/activate", out _));
        JsonElement request = doc.GetProperty("components").GetProperty("schemas").GetProperty("JobRequest").GetProperty("properties");
        Assert.Equal("synthetic", request.GetProperty("dataset").GetProperty("example").GetString());
        Assert.Contains("10000", request.GetProperty("epochs").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/swagger/index.html")).StatusCode);
    }
}
