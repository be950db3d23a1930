using RankService.Api.Serving;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Training;

namespace RankService.Api.Tests.Serving;

/// <summary>
/// A data set with string ids (sku-like items, UUID users), hidden items and never-recommend lists, built the way
/// live data sets build theirs, trained by the real trainer and served through the real <see cref="Ranker"/>.
/// </summary>
public sealed class StringIdModel : IDisposable
{
    public StringIdModel()
    {
        RatingDataset source = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 60, Items = 80, Seed = 5 });
        var random = new Random(17);
        string[] users = Enumerable.Range(0, source.UserCount).Select(_ => NewUuid(random)).ToArray();
        string Sku(int item) => $"sku-{88400 + int.Parse(source.Items.ToId(item), System.Globalization.CultureInfo.InvariantCulture)}";
        Interaction[] interactions = source.Ratings.Select(r => new Interaction(users[r.User], Sku(r.Item), r.Value, r.Timestamp)).ToArray();
        Item[] records = Enumerable.Range(0, source.ItemCount).Select(i => new Item(
            Sku(i), "Product " + i, [$"category-{i % 3}", "all"], Hidden: i % 10 == 3, Timestamp: i % 4 == 0 ? 1_700_000_000 + i : null)).ToArray();
        // Three items each user never rated are that user's negative feedback.
        var never = new List<(string, string)>();
        for (int u = 0; u < source.UserCount; u++)
        {
            HashSet<int> rated = source.Ratings.Where(r => r.User == u).Select(r => r.Item).ToHashSet();
            never.AddRange(Enumerable.Range(0, source.ItemCount).Where(i => !rated.Contains(i)).Skip(u % 5).Take(3).Select(i => (users[u], Sku(i))));
        }
        Data = RatingDataset.FromInteractions("live-shop", interactions, records, never, version: "42");

        string run = ApiHost.TempFolder();
        new Trainer(new TrainingOptions { Epochs = 3, BatchSize = 16, EmbeddingDim = 8, NegativesPerList = 20, Patience = 0, Seed = 3 }).Train(Data, run);
        ManifestPath = CheckpointStore.ManifestPath(Path.Combine(run, "checkpoints"), "best");
        LoadedCheckpoint checkpoint = CheckpointStore.Load(ManifestPath);
        Model = new ServingModel("job-1", "live-shop", checkpoint, CheckpointStore.LoadSeen(ManifestPath, checkpoint.Manifest),
            CheckpointStore.LoadNeverRecommend(ManifestPath, checkpoint.Manifest));
    }

    public RatingDataset Data { get; }
    public string ManifestPath { get; }
    public ServingModel Model { get; }

    public void Dispose() => Model.Dispose();

    private static string NewUuid(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        return new Guid(bytes).ToString();
    }
}

public sealed class StringIdServingTests(StringIdModel fixture) : IClassFixture<StringIdModel>
{
    private readonly RatingDataset _data = fixture.Data;
    private readonly ServingModel _model = fixture.Model;

    [Fact]
    public void The_checkpoint_is_format_2_and_holds_the_string_ids_item_metadata_and_snapshot_version()
    {
        Assert.Equal(2, _model.Manifest.Format);
        Assert.Equal("42", _model.Manifest.Dataset.Version);
        Assert.NotNull(_model.Manifest.NeverRecommendFile);
        Assert.Equal(_data.Users.Ids, _model.Ids.UserIds);
        Assert.Equal(_data.Items.Ids, _model.Ids.ItemIds);
        for (int i = 0; i < _data.ItemCount; i++)
        {
            Item expected = _data.Catalogue[i];
            Item served = _model.Item(i);
            Assert.Equal((expected.Id, expected.Title, expected.Hidden, expected.Timestamp), (served.Id, served.Title, served.Hidden, served.Timestamp));
            Assert.Equal(expected.Categories, served.Categories);
        }
        Assert.Equal(Enumerable.Range(0, _data.ItemCount).Where(i => _data.Catalogue[i].Hidden), _model.HiddenItems);
        Assert.Null(_model.ItemNumbers);
    }

    [Fact]
    public void Users_and_items_are_found_by_their_exact_string_ids_only()
    {
        string uuid = _data.Users.ToId(7);
        Assert.True(_model.TryGetUser(uuid, out int user));
        Assert.Equal(7, user);
        Assert.False(_model.TryGetUser(uuid.ToUpperInvariant(), out _));
        Assert.False(_model.TryGetUser("7", out _));
        Assert.True(_model.TryGetItem(_data.Items.ToId(5), out int item));
        Assert.Equal(5, item);
        Assert.False(_model.TryGetItem("SKU-" + _data.Items.ToId(5)[4..], out _));
    }

    [Fact]
    public void Rankings_name_items_by_string_id_and_never_return_hidden_or_never_recommend_items_even_with_seen_included()
    {
        for (int user = 0; user < _data.UserCount; user++)
        {
            int[] never = _data.NeverRecommend[user];
            Assert.Equal(never, _model.NeverRecommend(user).ToArray());
            RankedItem[] all = Ranker.TopK(_model, user, _data.ItemCount, includeSeen: true);
            var excluded = new HashSet<string>(_model.HiddenItems.Concat(never).Select(_data.Items.ToId));

            Assert.Equal(_data.ItemCount - excluded.Count, all.Length);
            Assert.DoesNotContain(all, i => excluded.Contains(i.ItemId));
            Assert.All(all, i => Assert.StartsWith("sku-", i.ItemId, StringComparison.Ordinal));
            Assert.All(all, i => Assert.Null(i.MovieId));
            Assert.Equal(all.Select(i => i.Score).OrderByDescending(s => s), all.Select(i => i.Score));

            RankedItem[] unseen = Ranker.TopK(_model, user, 10, includeSeen: false);
            HashSet<string> rated = _data.Ratings.Where(r => r.User == user).Select(r => _data.Items.ToId(r.Item)).ToHashSet();
            Assert.Equal(all.Where(i => !rated.Contains(i.ItemId)).Take(10).Select(i => i.ItemId), unseen.Select(i => i.ItemId));
        }
    }

    [Fact]
    public void A_string_id_models_vectors_have_no_integer_ids_for_ids_npy()
    {
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(fixture.ManifestPath);
        EmbeddingTable items = EmbeddingExport.Extract(checkpoint, EmbeddingSide.Items);
        Assert.Null(items.IntegerIds);
        using var json = new MemoryStream();
        EmbeddingExport.WriteIdsJson(json, items.Ids);
        Assert.Equal(_data.Items.Ids, JsonSerializer.Deserialize<string[]>(json.ToArray()));
    }

    [Fact]
    public void A_forgotten_user_is_not_found_at_once_and_other_users_still_are()
    {
        LoadedCheckpoint checkpoint = CheckpointStore.Load(fixture.ManifestPath);
        using var model = new ServingModel("job-2", "live-shop", checkpoint, null);
        string gone = _data.Users.ToId(3);

        Assert.True(model.Forget(gone));

        Assert.False(model.TryGetUser(gone, out _));
        Assert.False(model.Forget(gone));
        Assert.False(model.Forget("nobody"));
        Assert.True(model.TryGetUser(_data.Users.ToId(4), out int other));
        Assert.Equal(4, other);
        Assert.True(_model.TryGetUser(gone, out _)); // another model of the same checkpoint is unaffected
    }
}
