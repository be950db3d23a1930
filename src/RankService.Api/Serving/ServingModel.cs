using System.Collections.Immutable;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
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
        IReadOnlyDictionary<int, int[]>? neverRecommend = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        JobId = jobId;
        Dataset = dataset;
        _checkpoint = checkpoint;
        Seen = seen;
        CheckpointIds ids = checkpoint.Ids;
        _users = Index(ids.UserIds);
        _items = Index(ids.ItemIds);
        _catalogue = new Item[ids.ItemIds.Count];
        for (int i = 0; i < _catalogue.Length; i++)
        {
            _catalogue[i] = ids.Item(i);
        }
        _hidden = Enumerable.Range(0, _catalogue.Length).Where(i => _catalogue[i].Hidden).ToArray();
        ItemNumbers = EmbeddingExport.AsIntegers(ids.ItemIds);
        _neverRecommend = neverRecommend ?? NoLists;
        Scorer = new PrecomputedScorer(checkpoint.Model);
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
        }
    }

    public void Dispose() => Retire();

    private static Dictionary<string, int> Index(IReadOnlyList<string> ids)
    {
        var index = new Dictionary<string, int>(ids.Count, StringComparer.Ordinal);
        for (int i = 0; i < ids.Count; i++)
        {
            index[ids[i]] = i;
        }
        return index;
    }
}
