using System.Globalization;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;

namespace RankService.Api.Tests;

/// <summary>
/// A host whose synthetic set is large enough for cold start to be measured (300 users with 30 to 60 ratings each over
/// 200 items; the generator's users follow latent tastes that outweigh popularity), trained under the <c>cold-users</c>
/// protocol: a seeded 10 % of the users is never seen in training.
/// </summary>
public sealed class ColdStartService() : ServiceFixture(
    overrides: new Dictionary<string, string?>
    {
        ["Data:SyntheticSet:Users"] = Options.Users.ToString(CultureInfo.InvariantCulture),
        ["Data:SyntheticSet:Items"] = Options.Items.ToString(CultureInfo.InvariantCulture),
        ["Data:SyntheticSet:MinRatingsPerUser"] = Options.MinRatingsPerUser.ToString(CultureInfo.InvariantCulture),
        ["Data:SyntheticSet:MaxRatingsPerUser"] = Options.MaxRatingsPerUser.ToString(CultureInfo.InvariantCulture),
    },
    trainFirst: new { dataset = "synthetic", epochs = 8, embeddingDim = 32, protocol = "cold-users", splitSeed = SplitSeed })
{
    public const int SplitSeed = 3;

    public static SyntheticOptions Options { get; } = ApiHost.Synthetic with { Users = 300, Items = 200, MinRatingsPerUser = 30, MaxRatingsPerUser = 60 };

    /// <summary>The host's data set, generated here the same way, and the job's split of it.</summary>
    public RatingDataset Data { get; } = SyntheticMovieLens.Generate(Options);
}

/// <summary>
/// The check of fold-in quality through HTTP: each held-out user (never trained on) is described to
/// <c>POST /sessions/ranking</c> by 80 % of their items, and their other 20 % must be found more often in that ranking
/// than in the popularity list (<c>GET /items/popular</c>) with the same items left out.
/// </summary>
public sealed class SessionFoldInQualityTests(ColdStartService service) : IClassFixture<ColdStartService>
{
    private const int K = 10;

    [Fact]
    public async Task A_session_folded_in_from_a_held_out_users_items_finds_their_other_items_better_than_popularity()
    {
        RatingDataset data = service.Data;
        var split = ColdUsersSplit.Create(data, ColdStartService.SplitSeed, trainedIn: false);
        ItemListResponse popular = (await service.Client.GetFromJsonAsync<ItemListResponse>($"/items/popular?k={data.ItemCount}", ApiHost.Json))!;
        Assert.Equal("train-counts", popular.Source);

        double sessionRecall = 0, popularRecall = 0;
        foreach (int user in split.HeldOutUsers)
        {
            string[] given = [.. split.FoldInItems[user].Select(data.Items.ToId)];
            HashSet<string> held = [.. split.TestItems[user].Select(data.Items.ToId)];
            object[] items = [.. given.Select((id, j) => (object)new { id, value = split.FoldInRatings[user][j] })];
            HttpResponseMessage response = await service.Client.PostAsJsonAsync("/sessions/ranking", new { items, k = K }, ApiHost.Json);
            response.EnsureSuccessStatusCode();
            SessionRankingResponse session = (await response.Content.ReadFromJsonAsync<SessionRankingResponse>(ApiHost.Json))!;

            Assert.Empty(session.UnknownItems);
            Assert.DoesNotContain(session.Items, i => given.Contains(i.ItemId));
            int most = Math.Min(K, held.Count);
            sessionRecall += (double)session.Items.Count(i => held.Contains(i.ItemId)) / most;
            popularRecall += (double)popular.Items.Select(i => i.ItemId).Where(id => !given.Contains(id)).Take(K).Count(held.Contains) / most;
        }
        sessionRecall /= split.HeldOutUsers.Length;
        popularRecall /= split.HeldOutUsers.Length;

        Assert.True(split.HeldOutUsers.Length >= 20);
        // Measured when written: 0.302 against 0.141 (2.1 x), so 1.2 x leaves room for another libtorch build's rounding.
        Assert.True(sessionRecall > 1.2 * popularRecall, $"recall@{K}: folded-in sessions {sessionRecall:F3}, popularity {popularRecall:F3}");
    }
}
