using Microsoft.Extensions.DependencyInjection;
using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Api.Tests.Jobs;

/// <summary>
/// The promotion guard through HTTP: a finished job replaces the serving model only when it is at least as good on its
/// own run's validation split (<c>if-better</c>), always, or never; kept models stay activatable by hand.
/// </summary>
public sealed class PromotionGuardTests : HostPerTest
{
    /// <summary>One epoch at the smallest learning rate: about the random initial weights, far below a trained model.</summary>
    private static readonly object Untrained = new { dataset = "synthetic", epochs = 1, learningRate = 1e-7 };

    private static readonly object Trained = new { dataset = "synthetic", epochs = 4 };

    private async Task<JobView> TrainAsync(object body)
    {
        JobView queued = await ApiHost.PostJobAsync(Client, body);
        return await ApiHost.WaitForStateAsync(Client, queued.Id, JobState.Succeeded);
    }

    private async Task<string?> ServingAsync() =>
        (await Client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!.SingleOrDefault(m => m.Serving)?.JobId;

    [Fact]
    public async Task A_better_model_is_promoted_a_worse_one_is_kept_with_its_reason_and_can_still_be_activated_by_hand()
    {
        JobView first = await TrainAsync(Untrained);
        Assert.True(first.Promotion!.Promoted);
        Assert.Contains("no model served synthetic", first.Promotion.Reason, StringComparison.Ordinal);
        Assert.Equal(first.Id, await ServingAsync());

        JobView better = await TrainAsync(Trained);
        Assert.True(better.Promotion!.Promoted, better.Promotion.Reason);
        Assert.Equal(first.Id, better.Promotion.ServingJobId);
        Assert.True(better.Promotion.Candidate >= better.Promotion.Serving);
        Assert.Equal(better.Id, await ServingAsync());

        JobView worse = await TrainAsync(Untrained);
        PromotionDecision kept = worse.Promotion!;
        Assert.False(kept.Promoted);
        Assert.StartsWith("kept, not served", kept.Reason, StringComparison.Ordinal);
        Assert.Equal(better.Id, kept.ServingJobId);
        Assert.True(kept.Candidate < kept.Serving);
        // Both were scored on the new run's split: unchanged data, so each equals that model's own validation NDCG@10.
        Assert.Equal(worse.BestValidation!["NDCG@10"], kept.Candidate!.Value, 5);
        Assert.Equal(better.BestValidation!["NDCG@10"], kept.Serving!.Value, 5);
        Assert.Equal(JobState.Succeeded, worse.State);
        Assert.Equal(better.Id, await ServingAsync());
        // GET /jobs/{id} says the same after the fact.
        Assert.Equal(kept.Reason, (await ApiHost.GetJobAsync(Client, worse.Id)).Promotion!.Reason);

        HttpResponseMessage activate = await Client.PostAsync($"/models/{worse.Id}/activate", null);
        Assert.Equal(HttpStatusCode.OK, activate.StatusCode);
        Assert.Equal(worse.Id, await ServingAsync());
    }

    [Fact]
    public async Task Promote_always_replaces_a_better_model_and_never_keeps_even_the_first()
    {
        JobView never = await TrainAsync(new { dataset = "synthetic", epochs = 2, promote = "never" });
        Assert.False(never.Promotion!.Promoted);
        Assert.Contains("promote is never", never.Promotion.Reason, StringComparison.Ordinal);
        Assert.Equal(PromotePolicy.Never, never.Promote);
        Assert.Null(await ServingAsync());

        JobView better = await TrainAsync(Trained);
        Assert.Equal(PromotePolicy.IfBetter, better.Promote);
        JobView always = await TrainAsync(new { dataset = "synthetic", epochs = 1, learningRate = 1e-7, promote = "always" });
        Assert.True(always.Promotion!.Promoted);
        Assert.Contains("promote is always", always.Promotion.Reason, StringComparison.Ordinal);
        Assert.Equal(always.Id, await ServingAsync());
    }

    [Fact]
    public async Task The_promoted_model_serves_again_after_a_restart_and_a_kept_better_scoring_one_does_not()
    {
        JobView better = await TrainAsync(new { dataset = "synthetic", epochs = 4, promote = "never" });
        JobView worse = await TrainAsync(Untrained);
        Assert.True(worse.Promotion!.Promoted);
        Assert.True(better.BestValidation!["NDCG@10"] > worse.BestValidation!["NDCG@10"]);
        File.Delete(Path.Combine(Host.ArtifactsRoot, "serving.json")); // the fallback, not the pinned choice, is under test

        await using var restarted = new ApiHost(Host.ArtifactsRoot);
        using HttpClient client = restarted.CreateClient();
        List<ModelView> models = (await client.GetFromJsonAsync<List<ModelView>>("/models", ApiHost.Json))!;
        Assert.Equal(worse.Id, models.Single(m => m.Serving).JobId);
    }

    [Fact]
    public async Task An_earlier_promotion_offered_after_a_later_one_does_not_replace_it()
    {
        JobView earlier = await TrainAsync(Untrained);
        JobView later = await TrainAsync(Trained);
        Assert.True(later.Promotion!.Promoted);

        // What an api node's watcher does when both finished between two polls: it offers them newest first.
        var registry = Host.Services.GetRequiredService<RankService.Api.Serving.ModelRegistry>();
        registry.OfferFinished(Host.Services.GetRequiredService<JobStore>().Find(earlier.Id)!);

        Assert.Equal(later.Id, await ServingAsync());
    }

    [Theory]
    [InlineData("sometimes")]
    [InlineData("IF-BETTER")]
    [InlineData("")]
    public async Task An_unknown_promote_policy_is_a_400_naming_the_policies(string promote)
    {
        HttpResponseMessage response = await Client.PostAsJsonAsync("/jobs", new { dataset = "synthetic", promote });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ValidationProblemDetails>())!;
        Assert.Equal($"promote must be one of always, if-better, never; got '{promote}'.", Assert.Single(problem.Errors["promote"]));
    }

    [Fact]
    public async Task A_promote_that_is_not_text_is_a_400_not_a_500()
    {
        HttpResponseMessage response = await Client.PostAsync("/jobs", new StringContent("""{"promote": 3}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("promote", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

/// <summary>The guard's evaluation of a model on data that changed since it was trained.</summary>
public sealed class PromotionGuardEvaluationTests
{
    [Fact]
    public void Users_and_items_a_model_lacks_count_as_misses_and_the_others_score_as_before()
    {
        RatingDataset old = SyntheticMovieLens.Generate(ApiHost.Synthetic);
        string run = ApiHost.TempFolder();
        TrainingResult trained = new Trainer(new TrainingOptions { Loss = LossKind.ListMle, Epochs = 2, BatchSize = 16, EmbeddingDim = 8, NegativesPerList = 20, Seed = 3 })
            .Train(old, run);
        string manifest = trained.BestCheckpoint;

        // The data grew: 20 users the model never saw, who rate old items and one new item (appended: old indices stay).
        long newItem = old.Items.Integers![^1] + 1;
        long firstNewUser = old.Users.Integers![^1] + 1;
        var users = new IdMap(old.Users.Integers!.Concat(Enumerable.Range(0, 20).Select(u => firstNewUser + u)));
        var items = new IdMap(old.Items.Integers!.Append(newItem));
        var ratings = old.Ratings.ToList();
        for (int u = 0; u < 20; u++)
        {
            int user = users.ToIndex(firstNewUser + u);
            for (int i = 0; i < 6; i++)
            {
                ratings.Add(new Rating(user, (u * 7 + i * 13) % old.ItemCount, 4, 1_000 + i));
            }
            ratings.Add(new Rating(user, items.ToIndex(newItem), 5, 2_000));
        }
        var grown = new RatingDataset("grown", old.Format, users, items, [.. ratings],
            [.. old.Catalogue, new Item(ExternalId.Of(newItem), "New", [])], "grown");

        UserSplit oldSplit = EvaluationProtocol.Split(old, SplitProtocol.Temporal);
        UserSplit grownSplit = EvaluationProtocol.Split(grown, SplitProtocol.Temporal);
        double before = PromotionGuard.ValidationNdcg(manifest, old, oldSplit);
        double after = PromotionGuard.ValidationNdcg(manifest, grown, grownSplit);

        Assert.Equal(trained.BestValidation["NDCG@10"], before, 5);
        int oldUsers = oldSplit.ValidationItems.Count(v => v.Length > 0);
        int grownUsers = grownSplit.ValidationItems.Count(v => v.Length > 0);
        Assert.Equal(oldUsers + 20, grownUsers);
        // Every new user is a miss (the model has no vector for them); old users score as before, the new item ranking below theirs.
        Assert.Equal(before * oldUsers, after * grownUsers, 4);
        Assert.True(after < before);
    }
}
