using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using RankService.Api.Serving;
using RankService.Ranking.Baselines;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Model;

namespace RankService.Api.Tests.Jobs;

/// <summary>One host that trained one job asking for <c>"blend": "ease"</c>.</summary>
public sealed class BlendedService() : ServiceFixture(trainFirst: new { dataset = "synthetic", epochs = 3, blend = "ease" });

/// <summary>A job served as the two-tower blended with EASE, checked against the blend computed here from its files.</summary>
public sealed class BlendTests(BlendedService service) : IClassFixture<BlendedService>
{
    private readonly HttpClient _client = service.Client;

    private string ManifestPath => Path.Combine(service.Host.ArtifactsRoot, "jobs", service.Job.Id, service.Job.Checkpoint!);

    [Fact]
    public async Task The_manifest_holds_the_weight_lambda_and_both_parts_metrics_and_the_blend_is_never_below_either_on_validation()
    {
        (CheckpointManifest manifest, _) = CheckpointStore.ReadVerified(ManifestPath);
        BlendManifest blend = manifest.Blend!;

        Assert.Equal("ease", blend.Kind);
        Assert.InRange(blend.Weight, 0, 1);
        Assert.Contains(blend.EaseLambda, Baseline.DefaultLambdas);
        double tower = blend.TwoTower.Validation["NDCG@10"], ease = blend.Ease.Validation["NDCG@10"];
        // The weights tried include 1 (the two-tower alone) and 0 (EASE alone): the pick is at least as good as both.
        Assert.True(blend.Blended.Validation["NDCG@10"] >= Math.Max(tower, ease) - 1e-12);
        Assert.All(new[] { blend.TwoTower.Test, blend.Ease.Test, blend.Blended.Test }, t => Assert.InRange(t["NDCG@10"], 0, 1));
        string easeFile = Path.Combine(Path.GetDirectoryName(ManifestPath)!, blend.EaseFile);
        Assert.Equal(blend.EaseSha256, CheckpointStore.Sha256(File.ReadAllBytes(easeFile)));

        List<ModelView> models = (await _client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        ModelView served = models.Single(m => m.JobId == service.Job.Id);
        Assert.True(served.Serving);
        Assert.Equal(ModelKinds.TwoTowerEase, served.Kind);
        Assert.Equal("ease", service.Job.Blend);
    }

    [Fact]
    public async Task A_ranking_is_the_blend_of_the_saved_two_tower_and_ease_over_the_users_rated_items()
    {
        (CheckpointManifest manifest, _) = CheckpointStore.ReadVerified(ManifestPath);
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(ManifestPath);
        SeenItems seen = CheckpointStore.LoadSeen(ManifestPath, manifest)!;
        int users = checkpoint.Ids.UserIds.Count;
        var ease = EaseScorer.FromWeights(checkpoint.Ids.ItemIds.Count, CheckpointStore.LoadEase(ManifestPath, manifest.Blend!),
            Enumerable.Range(0, users).Select(u => seen.For(u).ToArray()).ToArray(), manifest.Blend!.EaseLambda);
        var blend = new ScoreBlend([new PrecomputedScorer(checkpoint.Model), ease], [manifest.Blend.Weight, 1 - manifest.Blend.Weight]);

        foreach (int user in new[] { 0, users / 2, users - 1 })
        {
            string rawUser = checkpoint.Ids.UserIds[user];
            var scores = new float[ease.ItemCount];
            blend.Score([user], scores);
            var expected = Enumerable.Range(0, scores.Length).Where(i => !seen.For(user).Contains(i))
                .OrderByDescending(i => scores[i]).ThenBy(i => i).Take(10).ToList();

            RankingResponse ranking = (await _client.GetFromJsonAsync<RankingResponse>($"/users/{rawUser}/ranking?k=10&dataset=synthetic", ApiHost.Json))!;

            Assert.Equal(expected.Select(i => checkpoint.Ids.ItemIds[i]), ranking.Items.Select(m => m.ItemId));
            Assert.Equal(expected.Select(i => scores[i]), ranking.Items.Select(m => m.Score));
        }
    }

    [Fact]
    public void A_session_is_scored_by_ease_from_its_items_alone()
    {
        ServingModel model = service.Host.Services.GetRequiredService<ModelRegistry>().Find("synthetic")!;
        string[] session = [model.Ids.ItemIds[3], model.Ids.ItemIds[40], model.Ids.ItemIds[41], "no-such-item"];
        var scores = new float[model.ItemCount];

        Assert.True(model.TryScoreSession(session, scores));

        var expected = new float[model.ItemCount];
        model.Ease!.ScoreItems([3, 40, 41], expected);
        Assert.Equal(expected, scores);
        Assert.Contains(scores, s => s != 0);
    }

    [Fact]
    public void A_corrupt_ease_file_fails_the_checkpoints_checksum()
    {
        string copy = Path.Combine(ApiHost.TempFolder(), "checkpoints");
        Directory.CreateDirectory(copy);
        foreach (string file in Directory.EnumerateFiles(Path.GetDirectoryName(ManifestPath)!))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }
        string manifest = Path.Combine(copy, Path.GetFileName(ManifestPath));
        string ease = Path.Combine(copy, CheckpointStore.ReadVerified(manifest).Manifest.Blend!.EaseFile);
        byte[] bytes = File.ReadAllBytes(ease);
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(ease, bytes);

        CheckpointException e = Assert.Throws<CheckpointException>(() => CheckpointStore.Load(manifest));
        Assert.Contains(Path.GetFileName(ease), e.Message, StringComparison.Ordinal);
        Assert.Contains("corrupt or truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_blend_is_a_400_and_a_catalogue_above_Serving_MaxBlendItems_too()
    {
        HttpResponseMessage unknown = await _client.PostAsJsonAsync("/jobs", new { dataset = "synthetic", blend = "xgboost" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("blend must be none or ease; got 'xgboost'.",
            Assert.Single((await unknown.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["blend"]));

        await using var small = new ApiHost(overrides: new Dictionary<string, string?> { ["Serving:MaxBlendItems"] = "100" });
        using HttpClient client = small.CreateClient();
        HttpResponseMessage large = await client.PostAsJsonAsync("/jobs", new { dataset = "synthetic", blend = "ease" });
        Assert.Equal(HttpStatusCode.BadRequest, large.StatusCode);
        Assert.Equal($"blend ease serves catalogues of up to 100 items (Serving:MaxBlendItems); synthetic has {ApiHost.Synthetic.Items}.",
            Assert.Single((await large.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors["blend"]));
        // Without blend the same host trains as before.
        Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/jobs", new { dataset = "synthetic", blend = "none", epochs = 1 })).StatusCode);
    }
}

/// <summary>The promotion guard scores a blended model as it serves: the blend, not the two-tower alone.</summary>
public sealed class BlendPromotionTests(BlendedService service) : IClassFixture<BlendedService>
{
    [Fact]
    public void The_guard_evaluates_a_blend_to_its_tuned_validation_ndcg()
    {
        string path = Path.Combine(service.Host.ArtifactsRoot, "jobs", service.Job.Id, service.Job.Checkpoint!);
        CheckpointManifest manifest = CheckpointStore.ReadVerified(path).Manifest;
        Ranking.Data.RatingDataset data = Ranking.Data.SyntheticMovieLens.Generate(ApiHost.Synthetic);
        Ranking.Splits.UserSplit split = Ranking.Splits.EvaluationProtocol.Split(data, manifest.Training.Protocol, manifest.Training.SplitSeed);

        double guarded = PromotionGuard.ValidationNdcg(path, data, split);

        Assert.Equal(manifest.Blend!.Blended.Validation["NDCG@10"], guarded, 12);
    }
}
