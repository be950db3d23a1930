using System.Buffers;
using RankService.Ranking.Baselines;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Model;

namespace RankService.Api.Serving;

/// <summary>
/// A loaded checkpoint ready to rank: raw ids, titles, seen items and a <see cref="PrecomputedScorer"/> (every user
/// and item vector computed once at load, in plain arrays). Ranking never touches the TorchSharp model, so requests
/// run in parallel without a lock and a request in flight during a swap finishes on the arrays it holds; retiring
/// frees only the native model.
/// </summary>
public sealed class ServingModel : IDisposable
{
    private readonly LoadedCheckpoint _checkpoint;
    private readonly Dictionary<long, int> _users;

    public ServingModel(string jobId, string dataset, LoadedCheckpoint checkpoint, SeenItems? seen, float[]? easeWeights = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        JobId = jobId;
        Dataset = dataset;
        _checkpoint = checkpoint;
        Seen = seen;
        _users = new Dictionary<long, int>(checkpoint.Ids.UserIds.Count);
        for (int u = 0; u < checkpoint.Ids.UserIds.Count; u++)
        {
            _users[checkpoint.Ids.UserIds[u]] = u;
        }
        Scorer = new PrecomputedScorer(checkpoint.Model);
        if (checkpoint.Manifest.Blend is { } blend && easeWeights is not null)
        {
            // A user's EASE scores come from every item they rated, as the two-tower side leaves them out of rankings.
            int[][] history = Enumerable.Range(0, checkpoint.Ids.UserIds.Count).Select(u => seen is null || u >= seen.UserCount ? [] : seen.For(u).ToArray()).ToArray();
            Ease = EaseScorer.FromWeights(Scorer.ItemCount, easeWeights, history, blend.EaseLambda);
            BlendWeight = blend.Weight;
        }
        _items = new Dictionary<long, int>(checkpoint.Ids.ItemIds.Count);
        for (int i = 0; i < checkpoint.Ids.ItemIds.Count; i++)
        {
            _items[checkpoint.Ids.ItemIds[i]] = i;
        }
    }

    private readonly Dictionary<long, int> _items;

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
    /// Scores the catalogue for a session (raw ids of the items it holds, no user needed): EASE scores those items
    /// directly. False when the model has no EASE part (the two-tower needs a known user); unknown ids are skipped.
    /// </summary>
    public bool TryScoreSession(IEnumerable<long> rawItemIds, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(rawItemIds);
        if (Ease is null)
        {
            return false;
        }
        int[] items = rawItemIds.Select(id => _items.TryGetValue(id, out int i) ? i : -1).Where(i => i >= 0).Distinct().ToArray();
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

    private readonly Lock _gate = new();
    public bool IsRetired { get; private set; }

    /// <summary>Immutable and thread-safe; stays valid after <see cref="Retire"/>.</summary>
    public PrecomputedScorer Scorer { get; }

    public bool TryGetUser(long rawId, out int index) => _users.TryGetValue(rawId, out index);

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
}

/// <summary>The kinds of served model, as GET /models names them.</summary>
public static class ModelKinds
{
    public const string TwoTower = "two-tower";
    public const string TwoTowerEase = "two-tower+ease";
}
