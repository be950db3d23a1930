using System.Diagnostics;
using System.Text.Json;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Model;

namespace RankService.Ranking.Index;

/// <summary>
/// What <c>{tag}.index.json</c> beside a checkpoint says about its index: the index file and its SHA-256, the
/// checkpoint weights it was built from (<c>WeightsSha256</c>: an index of other weights is stale), the settings, and
/// the recall it measured against the exact ranking (<c>RecallAt10</c> over <c>RecallUsers</c> sampled users, seen
/// items excluded on both sides, through the serving path; <c>RecallFallbacks</c> of them went to the exact pass).
/// </summary>
public sealed record ItemIndexManifest(
    int Format,
    string Library,
    string File,
    string Sha256,
    string WeightsSha256,
    int Items,
    int Dimensions,
    int Connectivity,
    int ExpansionAdd,
    int ExpansionSearch,
    double BuildSeconds,
    double RecallAt10,
    int RecallUsers,
    int RecallFallbacks,
    DateTimeOffset CreatedAt)
{
    public const int CurrentFormat = 1;
    public const string LibraryName = "Cloud.Unum.USearch 2.26.6 (HNSW, inner product, f32)";
}

/// <summary>
/// Builds, saves and loads the index of a checkpoint: <c>{tag}.index.json</c> names <c>{tag}-index-{sha}.usearch</c>
/// in the checkpoint's folder. The index file is written under a temporary name, hashed and renamed into place, and
/// the manifest last (atomically), as the checkpoint's own files are; loading verifies the hash, the weights it was
/// built from and the shape, and throws <see cref="CheckpointException"/> saying what is wrong.
/// </summary>
public static class ItemIndexFile
{
    public static string ManifestPath(string checkpointManifestPath)
    {
        ArgumentNullException.ThrowIfNull(checkpointManifestPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(checkpointManifestPath))!;
        string name = Path.GetFileName(checkpointManifestPath);
        string tag = name.EndsWith(".manifest.json", StringComparison.Ordinal) ? name[..^".manifest.json".Length] : Path.GetFileNameWithoutExtension(name);
        return Path.Combine(folder, tag + ".index.json");
    }

    /// <summary>Builds the index of a checkpoint's model, measures its recall and saves both beside the checkpoint.</summary>
    public static (ItemIndex Index, ItemIndexManifest Manifest) BuildAndSave(
        string checkpointManifestPath, CheckpointManifest checkpoint, PrecomputedScorer scorer, SeenItems? seen, ItemIndexSettings settings,
        CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        ItemIndex index = ItemIndex.Build(scorer, settings, cancellationToken);
        try
        {
            double buildSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            IndexRecall recall = MeetTargetRecall(index, ExactTops.Compute(scorer, seen, cancellationToken: cancellationToken), settings, cancellationToken);
            ItemIndexManifest manifest = Save(checkpointManifestPath, checkpoint, index, buildSeconds, recall);
            return (index, manifest);
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Measures the index's recall and, while it is below <see cref="ItemIndexSettings.TargetRecall"/>, doubles the
    /// search expansion (up to <see cref="ItemIndexSettings.MaxExpansionSearch"/>) and measures again, against the
    /// same exact answers. The index is left searching with the last expansion tried, whose recall is returned.
    /// </summary>
    public static IndexRecall MeetTargetRecall(ItemIndex index, ExactTops exact, ItemIndexSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(settings);
        IndexRecall recall = IndexRecall.Measure(index, exact, cancellationToken);
        while (recall.RecallAt10 < settings.TargetRecall && index.Settings.ExpansionSearch < settings.MaxExpansionSearch)
        {
            index.ChangeExpansionSearch(Math.Min(settings.MaxExpansionSearch, 2 * index.Settings.ExpansionSearch));
            recall = IndexRecall.Measure(index, exact, cancellationToken);
        }
        return recall;
    }

    public static ItemIndexManifest Save(string checkpointManifestPath, CheckpointManifest checkpoint, ItemIndex index, double buildSeconds, IndexRecall recall)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(recall);
        string manifestPath = ManifestPath(checkpointManifestPath);
        string folder = Path.GetDirectoryName(manifestPath)!;
        string tag = Path.GetFileName(manifestPath)[..^".index.json".Length];
        string temp = Path.Combine(folder, $"{tag}-index.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            index.Save(temp);
            string sha = Sha256Of(temp);
            string name = $"{tag}-index-{sha[..16]}.usearch";
            File.Move(temp, Path.Combine(folder, name), overwrite: true);
            var manifest = new ItemIndexManifest(ItemIndexManifest.CurrentFormat, ItemIndexManifest.LibraryName, name, sha, checkpoint.WeightsSha256,
                index.ItemCount, index.Dimensions, index.Settings.Connectivity, index.Settings.ExpansionAdd, index.Settings.ExpansionSearch,
                Math.Round(buildSeconds, 3), recall.RecallAt10, recall.Users, recall.Fallbacks, DateTimeOffset.UtcNow);
            AtomicFile.Write(manifestPath, JsonSerializer.SerializeToUtf8Bytes(manifest, CheckpointStore.Json));
            foreach (string stale in Directory.EnumerateFiles(folder, $"{tag}-index-*.usearch"))
            {
                if (Path.GetFileName(stale) != name)
                {
                    File.Delete(stale);
                }
            }
            return manifest;
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>The index manifest beside a checkpoint, unverified (for listing recall), or null when there is none or it is unreadable.</summary>
    public static ItemIndexManifest? TryReadManifest(string checkpointManifestPath)
    {
        string path = ManifestPath(checkpointManifestPath);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<ItemIndexManifest>(File.ReadAllBytes(path), CheckpointStore.Json) : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// Loads the index beside a checkpoint after checking its manifest, its file's SHA-256, the weights it was built
    /// from and its shape; throws <see cref="CheckpointException"/> when it is missing, corrupt or stale.
    /// </summary>
    public static (ItemIndex Index, ItemIndexManifest Manifest) LoadVerified(
        string checkpointManifestPath, CheckpointManifest checkpoint, PrecomputedScorer scorer, ItemIndexSettings settings)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(scorer);
        string manifestPath = ManifestPath(checkpointManifestPath);
        if (!File.Exists(manifestPath))
        {
            throw new CheckpointException($"Index manifest '{manifestPath}' does not exist.");
        }
        ItemIndexManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<ItemIndexManifest>(File.ReadAllBytes(manifestPath), CheckpointStore.Json)
                ?? throw new CheckpointException($"Index manifest '{manifestPath}' is empty.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"Index manifest '{manifestPath}' is not valid JSON: {e.Message}", e);
        }
        if (manifest.Format != ItemIndexManifest.CurrentFormat)
        {
            throw new CheckpointException($"Index manifest '{manifestPath}' has format {manifest.Format}; this version reads format {ItemIndexManifest.CurrentFormat}.");
        }
        if (!string.Equals(manifest.WeightsSha256, checkpoint.WeightsSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new CheckpointException($"Index '{manifestPath}' was built from other weights than the checkpoint's.");
        }
        if (manifest.Items != scorer.ItemCount || manifest.Dimensions != scorer.Width + 1)
        {
            throw new CheckpointException($"Index '{manifestPath}' holds {manifest.Items} items of {manifest.Dimensions} dimensions; the model has {scorer.ItemCount} of {scorer.Width + 1}.");
        }
        string folder = Path.GetDirectoryName(manifestPath)!;
        string path = Path.Combine(folder, manifest.File);
        if (Path.GetFileName(manifest.File) != manifest.File || !File.Exists(path))
        {
            throw new CheckpointException($"Index file '{path}' named by the manifest is missing.");
        }
        string actual = Sha256Of(path);
        if (!string.Equals(actual, manifest.Sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new CheckpointException($"Index file '{path}' is corrupt or truncated: SHA-256 {actual[..16]}... does not match the manifest's {manifest.Sha256[..Math.Min(16, manifest.Sha256.Length)]}...");
        }
        // The expansion searched with is the one whose recall the manifest reports.
        ItemIndexSettings saved = settings with { Connectivity = manifest.Connectivity, ExpansionAdd = manifest.ExpansionAdd, ExpansionSearch = manifest.ExpansionSearch };
        try
        {
            return (ItemIndex.Load(path, manifest.Items, manifest.Dimensions, saved), manifest);
        }
        catch (Exception e) when (e is InvalidDataException or Cloud.Unum.USearch.USearchException)
        {
            throw new CheckpointException($"Index file '{path}' cannot be loaded: {e.Message}", e);
        }
    }

    private static string Sha256Of(string path)
    {
        using FileStream stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}
