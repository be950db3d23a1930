using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Index;
using RankService.Ranking.Model;

namespace RankService.Api.Serving;

/// <summary>
/// Where the approximate index meets the service: a finished job builds its model's index beside the checkpoint
/// (with its recall), and a node that serves a model loads that index in the background (verified), or rebuilds it
/// when it is missing, corrupt or stale, while the model answers exactly; the index is attached in one reference write.
/// Only <c>dot</c> models with at least <see cref="ServingOptions.AnnMinItems"/> items are indexed.
/// </summary>
public sealed class AnnIndexing(IOptions<ServingOptions> options, ILogger<AnnIndexing> logger)
{
    public bool Wants(PrecomputedScorer scorer) => scorer.IsDotProduct && scorer.ItemCount >= options.Value.AnnMinItems;

    /// <summary>
    /// Builds and saves the index of the checkpoint at <paramref name="checkpointPath"/> when its model wants one. A failure is
    /// logged, not thrown: the model still serves exactly, and the node that serves it rebuilds the index.
    /// </summary>
    public void BuildForCheckpoint(string jobId, string? checkpointPath, CancellationToken cancellationToken)
    {
        if (checkpointPath is null)
        {
            return;
        }
        try
        {
            using LoadedCheckpoint checkpoint = CheckpointStore.Load(checkpointPath);
            var scorer = new PrecomputedScorer(checkpoint.Model);
            if (!Wants(scorer))
            {
                return;
            }
            SeenItems? seen = CheckpointStore.LoadSeen(checkpointPath, checkpoint.Manifest);
            (ItemIndex index, ItemIndexManifest manifest) = ItemIndexFile.BuildAndSave(checkpointPath, checkpoint.Manifest, scorer, seen, options.Value.Ann, cancellationToken);
            index.Dispose();
            Built(jobId, manifest);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException or Cloud.Unum.USearch.USearchException or OperationCanceledException)
        {
            logger.LogWarning(e, "Job {JobId}: no approximate index was built ({Error}); its model ranks exactly until a serving node rebuilds it", jobId, e.Message);
        }
    }

    /// <summary>Loads or rebuilds <paramref name="model"/>'s index off the request path; the model ranks exactly meanwhile.</summary>
    public Task AttachInBackground(ServingModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!Wants(model.Scorer))
        {
            model.IndexState = IndexStates.Exact;
            return Task.CompletedTask;
        }
        model.IndexState = IndexStates.Loading;
        return Task.Run(() => Attach(model));
    }

    private void Attach(ServingModel model)
    {
        ItemIndex? index = null;
        try
        {
            ItemIndexManifest manifest;
            try
            {
                (index, manifest) = ItemIndexFile.LoadVerified(model.ManifestPath, model.Manifest, model.Scorer, options.Value.Ann);
            }
            catch (CheckpointException e)
            {
                logger.LogWarning("Index of job {JobId}'s model refused: {Error}; ranking exactly while it is rebuilt", model.JobId, e.Message);
                model.IndexState = IndexStates.Rebuilding;
                (index, manifest) = ItemIndexFile.BuildAndSave(model.ManifestPath, model.Manifest, model.Scorer, model.Seen, options.Value.Ann);
                Built(model.JobId, manifest);
            }
            if (model.AttachIndex(index, manifest))
            {
                index = null;
                logger.LogInformation("Job {JobId}'s model ranks through its approximate index ({Items} items, recall@10 {Recall:F4} over {Users} users)",
                    model.JobId, manifest.Items, manifest.RecallAt10, manifest.RecallUsers);
            }
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException or Cloud.Unum.USearch.USearchException or InvalidOperationException)
        {
            model.IndexState = IndexStates.Failed;
            logger.LogError(e, "Job {JobId}'s model has no approximate index ({Error}); it ranks exactly", model.JobId, e.Message);
        }
        finally
        {
            index?.Dispose(); // built for a model retired meanwhile
        }
    }

    private void Built(string jobId, ItemIndexManifest manifest) =>
        logger.LogInformation("Job {JobId}: approximate index of {Items} items built in {Seconds:F1} s, recall@10 {Recall:F4} against the exact ranking over {Users} users ({Fallbacks} handed to the exact pass) at search expansion {Expansion}",
            jobId, manifest.Items, manifest.BuildSeconds, manifest.RecallAt10, manifest.RecallUsers, manifest.RecallFallbacks, manifest.ExpansionSearch);
}

/// <summary>What a serving model's index is doing, as GET /models shows it.</summary>
public static class IndexStates
{
    /// <summary>No index: a concat-mlp model, or a catalogue below Serving:AnnMinItems.</summary>
    public const string Exact = "exact";
    public const string Loading = "loading";
    public const string Rebuilding = "rebuilding";
    public const string Serving = "serving";
    public const string Failed = "failed";
    /// <summary>Built beside a checkpoint that this node does not serve.</summary>
    public const string Saved = "saved";
}
