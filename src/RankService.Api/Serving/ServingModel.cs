using System.Buffers;
using System.Collections.Immutable;
using RankService.Ranking.Baselines;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Index;
using RankService.Ranking.Model;

namespace RankService.Api.Serving;

/// <summary>
/// A loaded checkpoint ready to rank: string ids, item records, seen items, never-recommend lists and a
/// <see cref="PrecomputedScorer"/> (every user and item vector computed once at load, in plain arrays). Ranking never
/// touches the TorchSharp model, so requests run in parallel without a lock and a request in flight during a swap
/// finishes on the arrays it holds; retiring frees only the native model.
/// </summary>
public sealed class ServingModel : IDisposable
{
    private static readonly IReadOnlyDictionary<int, int[]> NoLists = new Dictionary<int, int[]>();

    private readonly LoadedCheckpoint _checkpoint;
    private readonly Dictionary<string, int> _users;
    private readonly Dictionary<string, int> _items;
    private readonly Item[] _catalogue;
    private readonly IReadOnlyDictionary<int, int[]> _neverRecommend;
    private readonly int[] _hidden;

    /// <summary>Users erased since load; null until the first (so the ranking path pays one null check).</summary>
    private volatile ImmutableHashSet<int>? _forgotten;

    public ServingModel(string jobId, string dataset, LoadedCheckpoint checkpoint, SeenItems? seen,
        IReadOnlyDictionary<int, int[]>? neverRecommend = null, float[]? easeWeights = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        JobId = jobId;
        Dataset = dataset;
        _checkpoint = checkpoint;
        Seen = seen;
        CheckpointIds ids = checkpoint.Ids;
        _users = Lookup(ids.UserIds);
        _items = Lookup(ids.ItemIds);
        _catalogue = new Item[ids.ItemIds.Count];
        for (int i = 0; i < _catalogue.Length; i++)
        {
            _catalogue[i] = ids.Item(i);
        }
        _hidden = Enumerable.Range(0, _catalogue.Length).Where(i => _catalogue[i].Hidden).ToArray();
        ItemNumbers = EmbeddingExport.AsIntegers(ids.ItemIds);
        _neverRecommend = neverRecommend ?? NoLists;
        Scorer = new PrecomputedScorer(checkpoint.Model);
        if (checkpoint.Manifest.Blend is { } blend && easeWeights is not null)
        {
            // A user's EASE scores come from every item they rated, as the two-tower side leaves them out of rankings.
            int[][] history = Enumerable.Range(0, checkpoint.Ids.UserIds.Count).Select(u => seen is null || u >= seen.UserCount ? [] : seen.For(u).ToArray()).ToArray();
            Ease = EaseScorer.FromWeights(Scorer.ItemCount, easeWeights, history, blend.EaseLambda);
            BlendWeight = blend.Weight;
        }
    }

    /// <summary>EASE, when the model serves the two-tower blended with it (<see cref="CheckpointManifest.Blend"/>).</summary>
    public EaseScorer? Ease { get; }

    /// <summary>The two-tower's weight in the blend (EASE gets 1 - w); 1 without a blend.</summary>
    public double BlendWeight { get; } = 1;

    /// <summary>What serves: <c>two-tower</c>, or <c>two-tower+ease</c> for the blend.</summary>
    public string Kind => Ease is null ? ModelKinds.TwoTower : ModelKinds.TwoTowerEase;

    /// <summary>
    /// The served scores of every catalogue item for one user: the two-tower's, or its blend with EASE
    /// (<see cref="ScoreBlend.Combine"/>, the rule the blend was tuned with). Thread-safe; buffers are pooled.
    /// </summary>
    public void ScoreUser(int user, Span<float> scores)
    {
        if (Ease is null)
        {
            Scorer.ScoreUser(user, scores);
            return;
        }
        int n = ItemCount;
        float[] tower = ArrayPool<float>.Shared.Rent(n);
        float[] ease = ArrayPool<float>.Shared.Rent(n);
        try
        {
            Scorer.ScoreUser(user, tower);
            Ease.Score([user], ease.AsSpan(0, n));
            ScoreBlend.Combine(tower.AsSpan(0, n), ease.AsSpan(0, n), BlendWeight, scores);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(tower);
            ArrayPool<float>.Shared.Return(ease);
        }
    }

    /// <summary>
    /// Scores the catalogue for a session (ids of the items it holds, no user needed): EASE scores those items
    /// directly. False when the model has no EASE part (the two-tower needs a known user); unknown ids are skipped.
    /// </summary>
    public bool TryScoreSession(IEnumerable<string> itemIds, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(itemIds);
        if (Ease is null)
        {
            return false;
        }
        int[] items = itemIds.Select(id => _items.TryGetValue(id, out int i) ? i : -1).Where(i => i >= 0).Distinct().ToArray();
        Ease.ScoreItems(items, scores);
        return true;
    }

    public string JobId { get; }
    /// <summary>The configured data set name the job trained on.</summary>
    public string Dataset { get; }
    public CheckpointManifest Manifest => _checkpoint.Manifest;
    public CheckpointIds Ids => _checkpoint.Ids;
    public SeenItems? Seen { get; }
    public int ItemCount => Scorer.ItemCount;
    public int UserCount => _users.Count;

    /// <summary>Item records (id, title, categories, hidden, timestamp) by dense item index.</summary>
    public IReadOnlyList<Item> Catalogue => _catalogue;

    /// <summary>Dense indices of hidden items, ascending: never recommended.</summary>
    public IReadOnlyList<int> HiddenItems => _hidden;

    internal ReadOnlySpan<int> HiddenSpan => _hidden;

    /// <summary>
    /// The item ids as numbers when all are integers (MovieLens, synthetic): rankings then also name items by
    /// <c>movieId</c>. Null otherwise.
    /// </summary>
    public IReadOnlyList<long>? ItemNumbers { get; }

    private readonly Lock _gate = new();
    private UserFoldIn? _foldIn;
    public bool IsRetired { get; private set; }

    /// <summary>
    /// Folds in users the model never saw (<c>POST /sessions/ranking</c>), with the run's loss and options; made on
    /// first use from the native model (it copies what it needs), so null only when the model was retired before that.
    /// </summary>
    public UserFoldIn? FoldIn
    {
        get
        {
            lock (_gate)
            {
                if (_foldIn is null && !IsRetired)
                {
                    int lists = Seen is { } seen ? Enumerable.Range(0, seen.UserCount).Count(u => seen.For(u).Length > 0) : UserCount;
                    _foldIn = UserFoldIn.FromTraining(_checkpoint.Model, Manifest.Training, lists);
                }
                return _foldIn;
            }
        }
    }

    /// <summary>Immutable and thread-safe; stays valid after <see cref="Retire"/>.</summary>
    public PrecomputedScorer Scorer { get; }

    /// <summary>The user spelt exactly <paramref name="userId"/> (ordinal), unless forgotten since load.</summary>
    public bool TryGetUser(string userId, out int index)
    {
        ArgumentNullException.ThrowIfNull(userId);
        if (_users.TryGetValue(userId, out index) && _forgotten?.Contains(index) != true)
        {
            return true;
        }
        index = -1;
        return false;
    }

    /// <summary>The item spelt exactly <paramref name="itemId"/> (ordinal).</summary>
    public bool TryGetItem(string itemId, out int index)
    {
        ArgumentNullException.ThrowIfNull(itemId);
        if (_items.TryGetValue(itemId, out index))
        {
            return true;
        }
        index = -1;
        return false;
    }

    /// <summary>The item record of dense item <paramref name="index"/>.</summary>
    public Item Item(int index) => _catalogue[index];

    /// <summary>The items never to recommend to dense user <paramref name="user"/> (negative feedback), ascending.</summary>
    public ReadOnlySpan<int> NeverRecommend(int user) =>
        _neverRecommend.Count > 0 && _neverRecommend.TryGetValue(user, out int[]? items) ? items : [];

    /// <summary>
    /// Makes every later <see cref="TryGetUser"/> of <paramref name="userId"/> fail at once, for this model's
    /// lifetime (an erased user). Lock-free: an immutable set swapped in. False when the model does not know the user.
    /// </summary>
    public bool Forget(string userId)
    {
        if (!TryGetUser(userId, out int index))
        {
            return false;
        }
        ImmutableHashSet<int>? current, next;
        do
        {
            current = _forgotten;
            next = (current ?? []).Add(index);
        }
        while (Interlocked.CompareExchange(ref _forgotten, next, current) != current);
        return true;
    }

    /// <summary>The approximate index once attached (<see cref="AnnIndexing"/>); until then, and without one, rankings are exact.</summary>
    public ItemIndex? Index => _index;
    public ItemIndexManifest? IndexManifest { get; private set; }
    public string IndexState { get; set; } = IndexStates.Exact;
    public string ManifestPath => _checkpoint.ManifestPath;
    private volatile ItemIndex? _index;

    /// <summary>Attaches the index in one reference write; false (the caller disposes it) when the model was retired meanwhile.</summary>
    public bool AttachIndex(ItemIndex index, ItemIndexManifest manifest)
    {
        lock (_gate)
        {
            if (IsRetired)
            {
                return false;
            }
            IndexManifest = manifest;
            IndexState = IndexStates.Serving;
            _index = index;
            return true;
        }
    }


    /// <summary>Frees the native model once; rankings keep working from the precomputed arrays.</summary>
    public void Retire()
    {
        lock (_gate)
        {
            if (IsRetired)
            {
                return;
            }
            IsRetired = true;
            _checkpoint.Dispose();
            _index?.Dispose(); // freed once the searches in flight leave it
        }
    }

    public void Dispose() => Retire();

    private static Dictionary<string, int> Lookup(IReadOnlyList<string> ids)
    {
        var index = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++)
        {
            index[ids[i]] = i;
        }
        return index;
    }
}

/// <summary>The kinds of served model, as GET /models names them.</summary>
public static class ModelKinds
{
    public const string TwoTower = "two-tower";
    public const string TwoTowerEase = "two-tower+ease";
}
