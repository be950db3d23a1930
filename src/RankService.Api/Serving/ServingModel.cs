using RankService.Ranking.Checkpoints;
using RankService.Ranking.Model;

namespace RankService.Api.Serving;

/// <summary>
/// A loaded checkpoint ready to rank: the model, its scorer (item side computed once), raw ids, titles and seen
/// items, and a score buffer of catalogue size. TorchSharp modules are not documented thread-safe, so one request
/// at a time uses it, under <see cref="Gate"/>. A retired model is disposed under the same lock, after which
/// <see cref="IsRetired"/> tells a late request to take the registry's current model instead.
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
        Scorer = new ModelScorer(checkpoint.Model);
        Scores = new float[Scorer.ItemCount];
        Heap = new int[Scorer.ItemCount];
    }

    public string JobId { get; }
    /// <summary>The configured data set name the job trained on.</summary>
    public string Dataset { get; }
    public CheckpointManifest Manifest => _checkpoint.Manifest;
    public CheckpointIds Ids => _checkpoint.Ids;
    public SeenItems? Seen { get; }
    public int ItemCount => Scorer.ItemCount;

    public Lock Gate { get; } = new();
    public bool IsRetired { get; private set; }

    /// <summary>Used only under <see cref="Gate"/>.</summary>
    internal ModelScorer Scorer { get; }

    /// <summary>Per-model buffers reused by every request, under <see cref="Gate"/>.</summary>
    internal float[] Scores { get; }
    internal int[] Heap { get; }

    public bool TryGetUser(long rawId, out int index) => _users.TryGetValue(rawId, out index);

    /// <summary>Waits for the request in progress, then frees the model; later requests see <see cref="IsRetired"/>.</summary>
    public void Retire()
    {
        lock (Gate)
        {
            if (IsRetired)
            {
                return;
            }
            IsRetired = true;
            Scorer.Dispose();
            _checkpoint.Dispose();
        }
    }

    public void Dispose() => Retire();
}
