using RankService.Api.Jobs;
using RankService.Api.Serving;
using RankService.Ranking.Index;

namespace RankService.Api.Apis;

/// <summary>A model's approximate top-k index, as GET /models shows it.</summary>
/// <param name="State">exact (no index: concat-mlp head or a catalogue below Serving:AnnMinItems), loading, rebuilding,
/// serving, failed, or saved (built beside a checkpoint this node does not serve).</param>
/// <param name="RecallAt10">Recall@10 of the index path against the exact ranking, seen items excluded, measured when it was built.</param>
/// <param name="RecallUsers">Sampled users the recall is the mean over.</param>
/// <param name="RecallFallbacks">Of those, users the index handed to the exact pass (counted as exact answers).</param>
public sealed record IndexView(
    string State,
    double? RecallAt10 = null,
    int? RecallUsers = null,
    int? RecallFallbacks = null,
    int? Items = null,
    int? Connectivity = null,
    int? ExpansionAdd = null,
    int? ExpansionSearch = null,
    double? BuildSeconds = null,
    string? Library = null)
{
    /// <summary>The serving model's live state, else the manifest beside the checkpoint; null when there is neither.</summary>
    public static IndexView? Of(JobRecord record, JobStore store, ModelRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(registry);
        if (registry.Find(record.Dataset) is { } model && model.JobId == record.Id)
        {
            ItemIndexManifest? live = model.IndexManifest;
            return model.IndexState == IndexStates.Exact && live is null ? new IndexView(IndexStates.Exact) : From(model.IndexState, live);
        }
        return store.CheckpointPath(record) is { } path && ItemIndexFile.TryReadManifest(path) is { } saved ? From(IndexStates.Saved, saved) : null;
    }

    private static IndexView From(string state, ItemIndexManifest? m) => m is null
        ? new IndexView(state)
        : new IndexView(state, m.RecallAt10, m.RecallUsers, m.RecallFallbacks, m.Items, m.Connectivity, m.ExpansionAdd, m.ExpansionSearch, m.BuildSeconds, m.Library);
}
