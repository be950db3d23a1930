using RankService.Ranking.Checkpoints;
using RankService.Ranking.Index;
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
            _index?.Dispose(); // freed once the searches in flight leave it
        }
    }

    public void Dispose() => Retire();
}
