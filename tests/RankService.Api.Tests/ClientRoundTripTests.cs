using System.Text;
using RankService.Client;
using ClientJobState = RankService.Client.JobState;
using JobMetrics = RankService.Client.JobMetrics;
using JobPage = RankService.Client.JobPage;
using JobProgress = RankService.Client.JobProgress;
using ModelDetails = RankService.Client.ModelDetails;

namespace RankService.Api.Tests;

/// <summary>A host that has trained one short job, for the client's round trip.</summary>
public sealed class ClientService() : ServiceFixture(trainFirst: new { dataset = "synthetic", epochs = 2 });

/// <summary>
/// Every method of <see cref="RankServiceClient"/> against the real host (the test server's HttpClient), each answer
/// compared with the same endpoint read as raw JSON, and the service's ProblemDetails surfaced as
/// <see cref="RankServiceException"/>.
/// </summary>
public sealed class ClientRoundTripTests(ClientService service) : IClassFixture<ClientService>
{
    private readonly HttpClient _raw = service.Client;

    /// <summary>A client over an HttpClient that sends no key itself: the key comes from the client.</summary>
    private RankServiceClient Client(string? key = ApiHost.TestKey) => new(service.Host.CreateClientWithKey(null), key);

    private static async Task<JsonElement> RawAsync(HttpClient http, string path)
    {
        using JsonDocument document = JsonDocument.Parse(await http.GetStringAsync(path));
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task Get_list_and_metrics_of_a_job_read_what_the_api_answers()
    {
        RankServiceClient client = Client();
        string id = service.Job.Id;
        Job job = await client.GetJobAsync(id);
        JsonElement raw = await RawAsync(_raw, $"/jobs/{id}");
        Assert.Equal(id, job.Id);
        Assert.Equal(ClientJobState.Succeeded, job.State);
        Assert.True(job.IsFinished);
        Assert.Equal(raw.GetProperty("bestValidation").GetProperty("NDCG@10").GetDouble(), job.BestValidation!["NDCG@10"]);
        Assert.Equal(2, (int)job.Options["epochs"]!);
        Assert.Equal(raw.GetProperty("options").GetProperty("loss").GetString(), (string?)job.Options["loss"]);
        Assert.Equal(new JobProgress(2, 2, 100, raw.GetProperty("progress").GetProperty("elapsedSeconds").GetDouble(), null), job.Progress);
        Assert.Equal(raw.GetProperty("finishedAt").GetDateTimeOffset(), job.FinishedAt);

        JobPage page = await client.ListJobsAsync(page: 1, pageSize: 5);
        Assert.Equal((1, 5), (page.Page, page.PageSize));
        Assert.Equal((await RawAsync(_raw, "/jobs")).GetProperty("total").GetInt32(), page.Total);
        Assert.Contains(page.Items, j => j.Id == id);

        JobMetrics metrics = await client.GetJobMetricsAsync(id);
        JsonElement rawMetrics = await RawAsync(_raw, $"/jobs/{id}/metrics");
        Assert.Equal([1, 2], metrics.Epochs.Select(e => e.Epoch));
        Assert.Equal(rawMetrics.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epochSeconds").GetDouble()), metrics.Epochs.Select(e => e.EpochSeconds));
        Assert.All(metrics.Epochs, e => Assert.True(e.TrainItems > 0 && e.TrainLoss > 0 && e.Validation.ContainsKey("NDCG@10")));
        Assert.Equal(job.BestEpoch, metrics.BestEpoch);
        Assert.Equal(rawMetrics.GetProperty("popularityTest").GetProperty("HR@10").GetDouble(), metrics.PopularityTest!["HR@10"]);
        Assert.NotNull(metrics.Test);
    }

    [Fact]
    public async Task Submitting_sends_the_options_as_fields_and_cancelling_a_queued_and_a_running_job_stops_both()
    {
        RankServiceClient client = Client();
        Job first = await client.SubmitJobAsync(new JobSubmission { Dataset = "synthetic", Options = { ["epochs"] = 400, ["seed"] = 11, ["loss"] = "softmax" } });
        Job second = await client.SubmitJobAsync(new JobSubmission { Options = { ["epochs"] = 400 } });
        Assert.Equal((400, 11, "softmax"), ((int)first.Options["epochs"]!, (int)first.Options["seed"]!, (string?)first.Options["loss"]));
        Assert.Equal("synthetic", second.Dataset); // the host's default data set
        // The one worker may pick the first job up before its POST is answered, so queued or already running.
        Assert.Contains(first.State, new[] { ClientJobState.Queued, ClientJobState.Running });

        // One worker: the second waits behind the first, so it is cancelled at once.
        Job cancelled = await client.CancelJobAsync(second.Id);
        Assert.Equal(ClientJobState.Cancelled, cancelled.State);
        Job stopping = await client.CancelJobAsync(first.Id);
        Assert.True(stopping.State == ClientJobState.Cancelled || stopping.CancelRequested, $"{stopping.State}, cancel requested {stopping.CancelRequested}");
        await ApiHost.WaitForAsync(_raw, first.Id, j => j.State.IsFinished());
        Job done = await client.GetJobAsync(first.Id);
        Assert.Equal(ClientJobState.Cancelled, done.State);

        RankServiceException again = await Assert.ThrowsAsync<RankServiceException>(() => client.CancelJobAsync(second.Id));
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal("The job has already finished", again.Title);
        Assert.Contains("cancelled", again.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Models_list_get_activate_and_export_read_what_the_api_answers()
    {
        RankServiceClient client = Client();
        string id = service.Job.Id;
        IReadOnlyList<Model> models = await client.ListModelsAsync();
        Model model = Assert.Single(models, m => m.JobId == id);
        Assert.True(model.Serving);
        Assert.Equal("checkpoints/best.manifest.json", model.Checkpoint);
        Assert.Equal(service.Job.BestValidation!["NDCG@10"], model.Validation!["NDCG@10"]);

        ModelDetails details = await client.GetModelAsync(id);
        JsonElement raw = await RawAsync(_raw, $"/models/{id}");
        Assert.Equal(id, details.Model.JobId);
        Assert.Equal(raw.GetProperty("manifest").GetProperty("training").GetProperty("epochs").GetInt32(), (int)details.Training!["epochs"]!);
        Assert.Equal(raw.GetProperty("manifest").EnumerateObject().Select(p => p.Name), details.Manifest.Select(p => p.Key));
        Assert.NotNull(details.PopularityValidation);

        Model activated = await client.ActivateModelAsync(id);
        Assert.Equal((id, true), (activated.JobId, activated.Serving));

        EmbeddingFile csv = await client.GetEmbeddingsAsync(id, EmbeddingSide.Users, EmbeddingFormat.Csv);
        Assert.Equal("text/csv", csv.ContentType);
        Assert.Equal($"{id}-users.csv", csv.FileName);
        Assert.Equal(await _raw.GetByteArrayAsync($"/models/{id}/embeddings?side=users&format=csv"), csv.Content);
        string[] lines = Encoding.UTF8.GetString(csv.Content).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("id,v0,", lines[0], StringComparison.Ordinal);
        Assert.Equal(ApiHost.Synthetic.Users, lines.Length - 1);

        EmbeddingFile ids = await client.GetEmbeddingsAsync(id, EmbeddingSide.Items, EmbeddingFormat.IdsNpy);
        Assert.Equal("application/octet-stream", ids.ContentType);
        Assert.Equal("\u0093NUMPY", Encoding.Latin1.GetString(ids.Content, 0, 6));
        Assert.Equal(await _raw.GetByteArrayAsync($"/models/{id}/embeddings?side=items&format=ids-npy"), ids.Content);
    }

    [Fact]
    public async Task A_ranking_and_health_read_what_the_api_answers()
    {
        RankServiceClient client = Client(key: null); // reads need no key
        UserRanking ranking = await client.GetRankingAsync(5, k: 7);
        RankingResponse raw = (await _raw.GetFromJsonAsync<RankingResponse>("/users/5/ranking?k=7", ApiHost.Json))!;
        Assert.Equal(("5", "synthetic", service.Job.Id, 7, false), (ranking.UserId, ranking.Dataset, ranking.ModelJobId, ranking.K, ranking.IncludeSeen));
        Assert.Equal(raw.Items.Select(i => (i.Rank, i.ItemId, i.MovieId, i.Title, i.Score)), ranking.Items.Select(i => (i.Rank, i.ItemId, i.MovieId, i.Title, i.Score)));

        UserRanking withSeen = await client.GetRankingAsync("5", k: 3, dataset: "synthetic", includeSeen: true);
        Assert.True(withSeen.IncludeSeen);
        Assert.Equal(3, withSeen.Items.Count);

        Assert.Equal(new Health(true, "Healthy"), await client.GetLivenessAsync());
        Assert.Equal(new Health(true, "Healthy"), await client.GetReadinessAsync());
    }

    [Fact]
    public async Task Problem_details_become_a_typed_exception_with_status_title_detail_and_field_errors()
    {
        RankServiceClient client = Client();
        RankServiceException invalid = await Assert.ThrowsAsync<RankServiceException>(() =>
            client.SubmitJobAsync(new JobSubmission { Dataset = "synthetic", Options = { ["epochs"] = 0, ["epoch"] = 3 } }));
        Assert.Equal(HttpStatusCode.BadRequest, invalid.Status);
        Assert.Contains("epochs must be between 1 and", Assert.Single(invalid.Errors["epochs"]), StringComparison.Ordinal);
        Assert.Contains(invalid.Errors, e => e.Key.Contains("epoch", StringComparison.Ordinal) && e.Key != "epochs");
        Assert.Contains("400", invalid.Message, StringComparison.Ordinal);

        RankServiceException unknownUser = await Assert.ThrowsAsync<RankServiceException>(() => client.GetRankingAsync("999999"));
        Assert.Equal((HttpStatusCode.NotFound, "User not found"), (unknownUser.Status, unknownUser.Title));
        Assert.Contains("999999", unknownUser.Detail, StringComparison.Ordinal);

        RankServiceException badK = await Assert.ThrowsAsync<RankServiceException>(() => client.GetRankingAsync(5, k: 0));
        Assert.Equal(HttpStatusCode.BadRequest, badK.Status);
        Assert.True(badK.Errors.ContainsKey("k"));

        RankServiceException unknownJob = await Assert.ThrowsAsync<RankServiceException>(() => client.GetJobAsync("0123456789abcdef0123456789abcdef"));
        Assert.Equal((HttpStatusCode.NotFound, "Job not found"), (unknownJob.Status, unknownJob.Title));
        Assert.Empty(unknownJob.Errors);

        // An id is one path segment however it is spelt: a slash cannot reach another endpoint.
        RankServiceException slash = await Assert.ThrowsAsync<RankServiceException>(() => client.GetModelAsync("../health/live"));
        Assert.Equal(HttpStatusCode.NotFound, slash.Status);

        // The key is the client's: without it a write is refused (the test server is not loopback), with it the same call gets past authentication.
        RankServiceException noKey = await Assert.ThrowsAsync<RankServiceException>(() => Client(key: null).CancelJobAsync("0123456789abcdef0123456789abcdef"));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Assert.ThrowsAsync<RankServiceException>(() => client.CancelJobAsync("0123456789abcdef0123456789abcdef"))).Status);
    }

    [Fact]
    public void The_client_library_references_neither_torchsharp_nor_asp_net_core_nor_the_api()
    {
        string[] references = typeof(RankServiceClient).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.DoesNotContain(references, r => r.StartsWith("TorchSharp", StringComparison.Ordinal)
            || r.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || r.StartsWith("RankService", StringComparison.Ordinal));
        Assert.Contains("System.Net.Http", references);
    }

    [Fact]
    public async Task A_rate_limited_submission_says_when_to_try_again()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?>
        {
            ["RateLimiting:Jobs:PermitLimit"] = "1",
            ["RateLimiting:Jobs:Window"] = "01:00:00",
        });
        var client = new RankServiceClient(host.CreateClientWithKey(null), ApiHost.TestKey);
        await client.SubmitJobAsync(new JobSubmission { Options = { ["epochs"] = 1 } });
        RankServiceException limited = await Assert.ThrowsAsync<RankServiceException>(() => client.SubmitJobAsync(new JobSubmission { Options = { ["epochs"] = 1 } }));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.Status);
        Assert.InRange(limited.RetryAfter!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.Contains("At most 1 job submissions", limited.Detail, StringComparison.Ordinal);
    }
}
