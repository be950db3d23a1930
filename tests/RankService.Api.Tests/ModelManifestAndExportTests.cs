using Microsoft.AspNetCore.Mvc;
using RankService.Ranking.Checkpoints;
using RankService.Tests.Common;

namespace RankService.Api.Tests;

/// <summary>GET /models/{id} (the manifest), its embeddings export, and POST /jobs retraining from a manifest.</summary>
public sealed class ModelManifestAndExportTests(TrainedService service) : IClassFixture<TrainedService>
{
    private readonly HttpClient _client = service.Client;

    private string ManifestPath => Path.Combine(service.Host.ArtifactsRoot, "jobs", service.Job.Id, service.Job.Checkpoint!);

    private static string Canonical<T>(T value) => JsonSerializer.Serialize(value, ApiHost.Json);

    private async Task<ModelDetails> GetModelAsync(string id) =>
        (await _client.GetFromJsonAsync<ModelDetails>($"/models/{id}", ApiHost.Json))!;

    [Fact]
    public async Task Get_model_gives_the_manifest_with_training_config_metrics_and_data_fingerprint()
    {
        ModelDetails details = await GetModelAsync(service.Job.Id);

        Assert.Equal(service.Job.Id, details.Model.JobId);
        Assert.Equal(Canonical(service.Job.Options), Canonical(details.Manifest.Training));
        Assert.Equal(service.Job.BestEpoch, details.Manifest.Epoch);
        Assert.Equal(service.Job.BestValidation, details.Manifest.Validation);
        Assert.Equal(service.Job.Test, details.Manifest.Test);
        Assert.Equal(service.Data.Fingerprint, details.Manifest.Dataset.Fingerprint);
        Assert.Equal(service.Data.UserCount, details.Manifest.Dataset.Users);
        Assert.Equal(service.Data.ItemCount, details.Manifest.Dataset.Items);
        Assert.Equal(service.Job.Options.EmbeddingDim, details.Manifest.Model.EmbeddingDim);
        Assert.Equal(64, details.Manifest.WeightsSha256.Length);
        Assert.NotNull(details.PopularityValidation);
    }

    [Fact]
    public async Task Embeddings_as_csv_match_the_model_vectors_with_raw_ids()
    {
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(ManifestPath);
        foreach ((string side, EmbeddingSide s) in new[] { ("users", EmbeddingSide.Users), ("items", EmbeddingSide.Items) })
        {
            HttpResponseMessage response = await _client.GetAsync($"/models/{service.Job.Id}/embeddings?side={side}&format=csv");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
            var csv = EmbeddingCsv.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(service.Job.Options.EmbeddingDim + 1 + (s == EmbeddingSide.Items ? 1 : 0), csv.Header.Length);
            ModelVectors.AssertMatches(checkpoint, s, csv.Ids, i => csv.Rows[i], csv.Bias);
        }
        Assert.Equal(service.Data.Users.Ids, checkpoint.Ids.UserIds);
    }

    [Fact]
    public async Task Embeddings_as_npy_with_an_ids_sidecar_match_the_model_vectors()
    {
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(ManifestPath);
        int dim = service.Job.Options.EmbeddingDim;
        foreach ((string side, EmbeddingSide s, int rows) in new[] { ("users", EmbeddingSide.Users, service.Data.UserCount), ("items", EmbeddingSide.Items, service.Data.ItemCount) })
        {
            NpyArray vectors = NpyArray.Read(await _client.GetByteArrayAsync($"/models/{service.Job.Id}/embeddings?side={side}&format=npy"));
            NpyArray ids = NpyArray.Read(await _client.GetByteArrayAsync($"/models/{service.Job.Id}/embeddings?side={side}&format=ids-npy"));
            Assert.Equal([rows, dim], vectors.Shape);
            Assert.Equal([rows], ids.Shape);
            float[] flat = vectors.Floats();
            float[]? bias = s == EmbeddingSide.Items
                ? NpyArray.Read(await _client.GetByteArrayAsync($"/models/{service.Job.Id}/embeddings?side=items&format=bias-npy")).Floats()
                : null;
            ModelVectors.AssertMatches(checkpoint, s, ids.Longs(), i => flat[(i * dim)..((i + 1) * dim)], bias);
        }
    }

    [Fact]
    public async Task Bad_embedding_requests_answer_problem_details_naming_the_fix()
    {
        HttpResponseMessage bad = await _client.GetAsync($"/models/{service.Job.Id}/embeddings?side=movies&format=parquet");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        ValidationProblemDetails problem = (await bad.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Contains("'users' or 'items'", problem.Errors["side"][0], StringComparison.Ordinal);
        Assert.Contains("csv, npy, ids-npy, ids-json, bias-npy", problem.Errors["format"][0], StringComparison.Ordinal);

        HttpResponseMessage userBias = await _client.GetAsync($"/models/{service.Job.Id}/embeddings?side=users&format=bias-npy");
        Assert.Equal(HttpStatusCode.BadRequest, userBias.StatusCode);

        HttpResponseMessage missing = await _client.GetAsync("/models/0123456789abcdef0123456789abcdef/embeddings");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/models/0123456789abcdef0123456789abcdef")).StatusCode);
    }

    [Fact]
    public async Task Posting_fromModel_retrains_with_the_same_config_and_data_set_and_reproduces_the_result()
    {
        ModelDetails original = await GetModelAsync(service.Job.Id);

        JobView retrain = await ApiHost.PostJobAsync(_client, new { fromModel = service.Job.Id });
        Assert.Equal(service.Job.Dataset, retrain.Dataset);
        Assert.Equal(Canonical(original.Manifest.Training), Canonical(retrain.Options));

        JobView done = await ApiHost.WaitForStateAsync(_client, retrain.Id, JobState.Succeeded);
        ModelDetails again = await GetModelAsync(done.Id);
        Assert.Equal(Canonical(original.Manifest.Training), Canonical(again.Manifest.Training));
        Assert.Equal(original.Manifest.Dataset, again.Manifest.Dataset);
        // Same seed, same data, same config, one thread of training: the same model.
        Assert.Equal(original.Manifest.Epoch, again.Manifest.Epoch);
        Assert.Equal(original.Manifest.Validation, again.Manifest.Validation);
        Assert.Equal(original.Manifest.WeightsSha256, again.Manifest.WeightsSha256);
    }

    [Fact]
    public async Task Posting_a_manifests_training_object_starts_a_job_with_that_config_and_fields_beside_it_override()
    {
        ModelDetails original = await GetModelAsync(service.Job.Id);
        var changed = original.Manifest.Training with { Epochs = 1, Seed = 11 };

        JobView job = await ApiHost.PostJobAsync(_client, new { dataset = "synthetic", training = changed, learningRate = 0.02 });
        Assert.Equal(Canonical(changed with { LearningRate = 0.02 }), Canonical(job.Options));

        JobView overridden = await ApiHost.PostJobAsync(_client, new { fromModel = service.Job.Id, epochs = 2 });
        Assert.Equal(Canonical(original.Manifest.Training with { Epochs = 2 }), Canonical(overridden.Options));
        await ApiHost.WaitForAsync(_client, overridden.Id, j => j.State.IsFinished());
        await ApiHost.WaitForAsync(_client, job.Id, j => j.State.IsFinished());
    }

    [Fact]
    public async Task Retraining_from_an_unknown_model_or_with_both_sources_is_a_400_naming_fromModel()
    {
        foreach (object body in new object[]
        {
            new { fromModel = "0123456789abcdef0123456789abcdef" },
            new { fromModel = "../../etc" },
            new { fromModel = service.Job.Id, training = service.Job.Options },
        })
        {
            HttpResponseMessage response = await _client.PostAsJsonAsync("/jobs", body, ApiHost.Json);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            ValidationProblemDetails problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
            Assert.True(problem.Errors.ContainsKey("fromModel"), string.Join("; ", problem.Errors.Keys));
        }

        HttpResponseMessage nulls = await _client.PostAsJsonAsync("/jobs", new { training = new { loss = (string?)null, hiddenSizes = (int[]?)null, head = (string?)null, epochs = 0 } }, ApiHost.Json);
        Assert.Equal(HttpStatusCode.BadRequest, nulls.StatusCode);
        // A null option is the same as leaving it out (its default): only the bad epochs is named.
        ValidationProblemDetails epochs = (await nulls.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Equal(["epochs"], epochs.Errors.Keys);
    }

    [Fact]
    public async Task The_openapi_document_describes_the_manifest_export_and_retrain_fields()
    {
        JsonElement doc = await _client.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
        JsonElement paths = doc.GetProperty("paths");
        Assert.Equal("GetModel", paths.GetProperty("/models/{id}").GetProperty("get").GetProperty("operationId").GetString());
        JsonElement export = paths.GetProperty("/models/{id}/embeddings").GetProperty("get");
        Assert.Contains("ids-npy", export.GetProperty("description").GetString(), StringComparison.Ordinal);
        JsonElement ok = export.GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.True(ok.TryGetProperty("text/csv", out _));
        Assert.True(ok.TryGetProperty("application/octet-stream", out _));
        Assert.Equal(["format", "id", "side"], export.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order());
        JsonElement request = doc.GetProperty("components").GetProperty("schemas").GetProperty("JobRequest").GetProperty("properties");
        Assert.Contains("manifest", request.GetProperty("fromModel").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.True(request.TryGetProperty("training", out _));
    }
}
