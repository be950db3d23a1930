using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using RankService.Ranking.Model;
using RankService.Ranking.Training;
using TorchSharp;

namespace RankService.Ranking.Checkpoints;

/// <summary>Thrown when a checkpoint is missing, truncated, or does not match its manifest.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Writes and reads checkpoints in a folder. A checkpoint <c>{tag}</c> is <c>{tag}.manifest.json</c> naming
/// <c>{tag}-{sha}.bin</c> (state dict) and <c>ids-{sha}.json</c>. Every file is written to a temporary name and
/// renamed into place, and the manifest is renamed last, so a reader sees either the old checkpoint or the new
/// one, never a mix; a crash leaves at worst an unreferenced file, removed by the next save.
/// </summary>
public static class CheckpointStore
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new WireNameJsonConverterFactory(), new JsonStringEnumConverter() },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string ManifestPath(string folder, string tag) => Path.Combine(folder, tag + ".manifest.json");

    /// <summary>Writes the id map once per folder (content-addressed); returns its file name and hash.</summary>
    public static (string File, string Sha256) SaveIds(string folder, CheckpointIds ids) =>
        SaveContentAddressed(folder, "ids", ".json", JsonSerializer.SerializeToUtf8Bytes(ids, Json));

    /// <summary>Writes the seen-items file once per folder (content-addressed); returns its file name and hash.</summary>
    public static (string File, string Sha256) SaveSeen(string folder, SeenItems seen) =>
        SaveContentAddressed(folder, "seen", ".bin", seen.ToBytes());

    /// <summary>Writes the never-recommend lists once per folder (content-addressed); returns its file name and hash.</summary>
    public static (string File, string Sha256) SaveNeverRecommend(string folder, IReadOnlyDictionary<int, int[]> lists) =>
        SaveContentAddressed(folder, "never", ".bin", NeverRecommendLists.ToBytes(lists));

    /// <summary>Reads and verifies the never-recommend lists a manifest names; empty when the checkpoint has none.</summary>
    public static IReadOnlyDictionary<int, int[]> LoadNeverRecommend(string manifestPath, CheckpointManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.NeverRecommendFile is null || manifest.NeverRecommendSha256 is null)
        {
            return new Dictionary<int, int[]>();
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        return NeverRecommendLists.FromBytes(ReadChecked(folder, manifest.NeverRecommendFile, manifest.NeverRecommendSha256));
    }

    /// <summary>Writes <c>{prefix}-{sha}{extension}</c> unless an intact copy is already there.</summary>
    private static (string File, string Sha256) SaveContentAddressed(string folder, string prefix, string extension, byte[] bytes)
    {
        Directory.CreateDirectory(folder);
        string sha = Sha256(bytes);
        string name = $"{prefix}-{sha[..16]}{extension}";
        string path = Path.Combine(folder, name);
        if (!File.Exists(path) || Sha256(File.ReadAllBytes(path)) != sha)
        {
            AtomicFile.Write(path, bytes);
        }
        return (name, sha);
    }

    /// <summary>Reads and verifies the seen items a manifest names; null when the checkpoint has none.</summary>
    public static SeenItems? LoadSeen(string manifestPath, CheckpointManifest manifest)
    {
        if (manifest.SeenFile is null || manifest.SeenSha256 is null)
        {
            return null;
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        return SeenItems.FromBytes(ReadChecked(folder, manifest.SeenFile, manifest.SeenSha256));
    }

    /// <summary>Saves the model's state dict and the manifest (whose file fields this fills in). Returns the manifest path.</summary>
    public static string Save(string folder, TwoTowerModel model, CheckpointManifest manifest)
    {
        Directory.CreateDirectory(folder);
        byte[] weights;
        using (var buffer = new MemoryStream())
        {
            model.save(buffer);
            weights = buffer.ToArray();
        }
        string sha = Sha256(weights);
        string weightsName = $"{manifest.Tag}-{sha[..16]}.bin";
        AtomicFile.Write(Path.Combine(folder, weightsName), weights);

        CheckpointManifest complete = manifest with { WeightsFile = weightsName, WeightsSha256 = sha };
        string manifestPath = ManifestPath(folder, manifest.Tag);
        AtomicFile.Write(manifestPath, JsonSerializer.SerializeToUtf8Bytes(complete, Json));

        foreach (string stale in Directory.EnumerateFiles(folder, manifest.Tag + "-*.bin"))
        {
            if (Path.GetFileName(stale) != weightsName)
            {
                File.Delete(stale);
            }
        }
        return manifestPath;
    }

    /// <summary>Reads and verifies a manifest and the files it names; throws <see cref="CheckpointException"/> saying what is wrong.</summary>
    public static (CheckpointManifest Manifest, CheckpointIds Ids) ReadVerified(string manifestPath)
    {
        if (!File.Exists(manifestPath))
        {
            throw new CheckpointException($"Checkpoint manifest '{manifestPath}' does not exist.");
        }
        CheckpointManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllBytes(manifestPath), Json)
                ?? throw new CheckpointException($"Checkpoint manifest '{manifestPath}' is empty.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"Checkpoint manifest '{manifestPath}' is not valid JSON: {e.Message}", e);
        }
        if (manifest.Format is not (1 or CheckpointManifest.CurrentFormat))
        {
            throw new CheckpointException($"Checkpoint '{manifestPath}' has format {manifest.Format}; this version reads formats 1 and {CheckpointManifest.CurrentFormat}.");
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        byte[] ids = ReadChecked(folder, manifest.IdsFile, manifest.IdsSha256);
        ReadChecked(folder, manifest.WeightsFile, manifest.WeightsSha256);
        if (manifest.SeenFile is not null)
        {
            ReadChecked(folder, manifest.SeenFile, manifest.SeenSha256 ?? "");
        }
        if (manifest.NeverRecommendFile is not null)
        {
            ReadChecked(folder, manifest.NeverRecommendFile, manifest.NeverRecommendSha256 ?? "");
        }
        CheckpointIds idMap;
        try
        {
            idMap = (manifest.Format == 1
                    ? JsonSerializer.Deserialize<CheckpointIdsFormat1>(ids, Json)?.ToCurrent()
                    : JsonSerializer.Deserialize<CheckpointIds>(ids, Json))
                ?? throw new CheckpointException($"Id map '{manifest.IdsFile}' is empty.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"Id map '{manifest.IdsFile}' does not hold format {manifest.Format}'s ids: {e.Message}", e);
        }
        if (idMap.UserIds.Count != manifest.Dataset.Users || idMap.ItemIds.Count != manifest.Dataset.Items
            || idMap.Titles.Count != idMap.ItemIds.Count || idMap.Categories?.Count is { } c && c != idMap.ItemIds.Count
            || idMap.Hidden?.Count is { } h && h != idMap.ItemIds.Count || idMap.Timestamps?.Count is { } t && t != idMap.ItemIds.Count)
        {
            throw new CheckpointException($"Id map '{manifest.IdsFile}' does not match the manifest's user and item counts.");
        }
        return (manifest, idMap);
    }

    /// <summary>Loads a verified checkpoint into a new model on <paramref name="device"/> (CPU when null).</summary>
    public static LoadedCheckpoint Load(string manifestPath, TorchSharp.torch.Device? device = null)
    {
        (CheckpointManifest manifest, CheckpointIds ids) = ReadVerified(manifestPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var model = new TwoTowerModel(manifest.Dataset.Users, manifest.Dataset.Items, manifest.Model);
        try
        {
            using var stream = new MemoryStream(File.ReadAllBytes(Path.Combine(folder, manifest.WeightsFile)));
            model.load(stream);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            model.Dispose();
            throw new CheckpointException($"Weights '{manifest.WeightsFile}' do not fit the model the manifest describes: {e.Message}", e);
        }
        if (device is not null)
        {
            model.to(device);
        }
        model.eval();
        return new LoadedCheckpoint(manifest, ids, model, manifestPath);
    }

    /// <summary>Restores the weights of a checkpoint into an existing model of the same shape (the trainer's best-epoch reload).</summary>
    public static void LoadWeightsInto(string manifestPath, TwoTowerModel model)
    {
        (CheckpointManifest manifest, _) = ReadVerified(manifestPath);
        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        using var stream = new MemoryStream(File.ReadAllBytes(Path.Combine(folder, manifest.WeightsFile)));
        model.load(stream);
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    internal static byte[] ReadChecked(string folder, string file, string expectedSha)
    {
        string path = Path.Combine(folder, file);
        if (Path.GetFileName(file) != file || !File.Exists(path))
        {
            throw new CheckpointException($"Checkpoint file '{path}' named by the manifest is missing.");
        }
        byte[] bytes = File.ReadAllBytes(path);
        string actual = Sha256(bytes);
        if (!string.Equals(actual, expectedSha, StringComparison.OrdinalIgnoreCase))
        {
            throw new CheckpointException($"Checkpoint file '{path}' is corrupt or truncated: SHA-256 {actual[..16]}... does not match the manifest's {expectedSha[..Math.Min(16, expectedSha.Length)]}...");
        }
        return bytes;
    }

}

/// <summary>A checkpoint loaded for scoring: manifest, ids and item metadata, and the model in eval mode. Dispose frees the model.</summary>
public sealed record LoadedCheckpoint(CheckpointManifest Manifest, CheckpointIds Ids, TwoTowerModel Model, string ManifestPath) : IDisposable
{
    public void Dispose() => Model.Dispose();
}
