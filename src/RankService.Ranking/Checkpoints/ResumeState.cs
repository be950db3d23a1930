using System.Text.Json;
using RankService.Ranking.Model;
using RankService.Ranking.Training;

namespace RankService.Ranking.Checkpoints;

/// <summary>
/// What a run needs to continue after a crash from the end of its last finished epoch: the epoch, the history, the
/// best epoch so far, the data and options it trained with, and the file (with SHA-256) holding the model's state
/// dict followed by the Adam state. Random streams are reseeded from (seed, epoch) at the start of every epoch, so
/// they need no saving. Kept as <c>checkpoints/resume.json</c> naming <c>resume-{sha}.bin</c>.
/// </summary>
public sealed record ResumeState
{
    /// <summary>
    /// 2 since the recbole split became NumPy's (Splits/NumpyRandomState.cs). A format-1 state of a recbole run was
    /// trained on the earlier split: resuming it would validate on items it trained on, so it is refused. Format-1
    /// temporal states resume (that split did not change).
    /// </summary>
    public const int CurrentFormat = 2;

    public int Format { get; init; } = CurrentFormat;
    public required int Epoch { get; init; }
    public required int BestEpoch { get; init; }
    public required IReadOnlyDictionary<string, double> BestValidation { get; init; }
    public required IReadOnlyList<EpochReport> History { get; init; }
    public required string DatasetFingerprint { get; init; }
    public required TrainingOptions Training { get; init; }
    public string StateFile { get; init; } = "";
    public string StateSha256 { get; init; } = "";

    /// <summary>Bytes of the model's state dict at the start of <see cref="StateFile"/>; the Adam state follows.</summary>
    public long WeightsLength { get; init; }

    public static string Path(string folder) => System.IO.Path.Combine(folder, "resume.json");

    /// <summary>Writes the state file, then the JSON naming it (both atomically), then removes older state files.</summary>
    public static void Save(string folder, TwoTowerModel model, AdamOptimizer optimizer, ResumeState state)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        byte[] weights;
        using (var buffer = new MemoryStream())
        {
            model.save(buffer); // closes the stream
            weights = buffer.ToArray();
        }
        using var adam = new MemoryStream();
        optimizer.Save(adam);
        byte[] bytes = [.. weights, .. adam.ToArray()];
        long weightsLength = weights.Length;
        string sha = CheckpointStore.Sha256(bytes);
        string file = $"resume-{sha[..16]}.bin";
        AtomicFile.Write(System.IO.Path.Combine(folder, file), bytes);
        ResumeState complete = state with { StateFile = file, StateSha256 = sha, WeightsLength = weightsLength };
        AtomicFile.Write(Path(folder), JsonSerializer.SerializeToUtf8Bytes(complete, CheckpointStore.Json));
        foreach (string stale in Directory.EnumerateFiles(folder, "resume-*.bin"))
        {
            if (System.IO.Path.GetFileName(stale) != file)
            {
                File.Delete(stale);
            }
        }
    }

    /// <summary>
    /// Reads the state in <paramref name="folder"/>, checks that it belongs to this data and these options and that its
    /// file matches its checksum, and loads it into <paramref name="model"/> and <paramref name="optimizer"/>. Null
    /// when there is none; throws <see cref="CheckpointException"/> saying why a state present is refused, having
    /// changed nothing.
    /// </summary>
    public static ResumeState? TryLoad(string folder, string datasetFingerprint, TrainingOptions options, TwoTowerModel model, AdamOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        string path = Path(folder);
        if (!File.Exists(path))
        {
            return null;
        }
        ResumeState state;
        try
        {
            state = JsonSerializer.Deserialize<ResumeState>(File.ReadAllBytes(path), CheckpointStore.Json)
                ?? throw new CheckpointException($"Resume state '{path}' is empty.");
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"Resume state '{path}' is not valid JSON (truncated?): {e.Message}", e);
        }
        if (state.Format is not (1 or CurrentFormat))
        {
            throw new CheckpointException($"Resume state '{path}' has format {state.Format}; this version reads formats 1 and {CurrentFormat}.");
        }
        if (state.Format == 1 && state.Training.Protocol == Splits.SplitProtocol.RecBole)
        {
            throw new CheckpointException($"Resume state '{path}' was trained on the recbole split of an earlier version; the split is NumPy's now, so its validation items would include training items.");
        }
        if (state.DatasetFingerprint != datasetFingerprint)
        {
            throw new CheckpointException($"Resume state '{path}' was saved for other data (fingerprint {state.DatasetFingerprint}).");
        }
        if (!SameRun(state.Training, options))
        {
            throw new CheckpointException($"Resume state '{path}' was saved with other training options.");
        }
        if (state.Epoch < 1 || state.History.Count != state.Epoch || state.BestEpoch > state.Epoch
            || state.History.Select((h, i) => h.Epoch == i + 1).Contains(false))
        {
            throw new CheckpointException($"Resume state '{path}' has an inconsistent history.");
        }
        byte[] bytes = CheckpointStore.ReadChecked(folder, state.StateFile, state.StateSha256);
        if (state.WeightsLength <= 0 || state.WeightsLength >= bytes.Length)
        {
            throw new CheckpointException($"Resume state file '{state.StateFile}' does not hold weights and optimiser state.");
        }
        try
        {
            // Adam first: it only copies once everything is read, so a failure leaves both untouched.
            using (var adam = new MemoryStream(bytes, (int)state.WeightsLength, bytes.Length - (int)state.WeightsLength))
            {
                optimizer.Load(adam);
            }
            using var weights = new MemoryStream(bytes, 0, (int)state.WeightsLength);
            model.load(weights);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException($"Resume state file '{state.StateFile}' does not fit this model: {e.Message}", e);
        }
        return state;
    }

    // Threads and device change where a run executes, not what it computes.
    private static bool SameRun(TrainingOptions saved, TrainingOptions current) =>
        JsonSerializer.Serialize(saved with { Threads = 0, Device = TrainingDevice.Auto }, CheckpointStore.Json)
        == JsonSerializer.Serialize(current with { Threads = 0, Device = TrainingDevice.Auto }, CheckpointStore.Json);
}
