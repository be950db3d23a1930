using RankService.Ranking.Checkpoints;
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

    public ServingModel(string jobId, string dataset, LoadedCheckpoint checkpoint, SeenItems? seen)
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
