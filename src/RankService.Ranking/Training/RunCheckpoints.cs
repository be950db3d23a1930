using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Model;

namespace RankService.Ranking.Training;

/// <summary>
/// Writes a run's <c>checkpoints/</c> folder: the id and seen-item files every manifest names, the best and last
/// checkpoints after each epoch, the resume state, and the best checkpoint again with its test metrics at the end.
/// </summary>
internal sealed class RunCheckpoints
{
    private readonly TrainingOptions _options;
    private readonly TimeProvider _clock;
    private readonly DatasetInfo _dataset;
    private readonly string _datasetFingerprint;
    private string _idsFile = "";
    private string _idsSha = "";
    private string _seenFile = "";
    private string _seenSha = "";
    private string? _neverFile;
    private string? _neverSha;

    public RunCheckpoints(string runFolder, RatingDataset data, TrainingOptions options, TimeProvider clock)
    {
        _clock = clock;
        Folder = Path.Combine(runFolder, "checkpoints");
        Directory.CreateDirectory(Folder);
        _options = options;
        _datasetFingerprint = data.Fingerprint;
        _dataset = new DatasetInfo(data.Name, data.Format.ToString(), data.Fingerprint, data.UserCount, data.ItemCount, data.Ratings.Length, data.Version);
        BestPath = CheckpointStore.ManifestPath(Folder, "best");
        LastPath = CheckpointStore.ManifestPath(Folder, "last");
    }

    public string Folder { get; }
    public string BestPath { get; }
    public string LastPath { get; }

    /// <summary>Saves the ids, item metadata, seen items and never-recommend lists every checkpoint of this run refers to.</summary>
    public void SaveDataFiles(RatingDataset data)
    {
        (_idsFile, _idsSha) = CheckpointStore.SaveIds(Folder, CheckpointIds.Of(data));
        (_seenFile, _seenSha) = CheckpointStore.SaveSeen(Folder, SeenItems.FromDataset(data));
        if (data.NeverRecommend.Count > 0)
        {
            (_neverFile, _neverSha) = CheckpointStore.SaveNeverRecommend(Folder, data.NeverRecommend);
        }
    }

    /// <summary>The epoch's weights as <c>last</c>, and as <c>best</c> too when it is the best so far.</summary>
    public void SaveEpoch(TwoTowerModel model, int epoch, IReadOnlyDictionary<string, double> validation, bool isBest)
    {
        if (isBest)
        {
            CheckpointStore.Save(Folder, model, Manifest(model, "best", epoch, validation));
        }
        CheckpointStore.Save(Folder, model, Manifest(model, "last", epoch, validation));
    }

    /// <summary>What a crashed or stopped run needs to continue after <paramref name="epoch"/>.</summary>
    public void SaveResume(TwoTowerModel model, AdamOptimizer optimizer, int epoch, EarlyStopping stopping, IReadOnlyList<EpochReport> history) =>
        ResumeState.Save(Folder, model, optimizer, new ResumeState
        {
            Epoch = epoch,
            BestEpoch = stopping.BestEpoch,
            BestValidation = stopping.BestValidation,
            History = history.ToList(),
            DatasetFingerprint = _datasetFingerprint,
            Training = _options,
        });

    /// <summary>The best checkpoint again, its manifest now holding the test metrics.</summary>
    public void SaveTested(TwoTowerModel model, EarlyStopping stopping, IReadOnlyDictionary<string, double> test) =>
        CheckpointStore.Save(Folder, model, Manifest(model, "best", stopping.BestEpoch, stopping.BestValidation) with { Test = test });

    private CheckpointManifest Manifest(TwoTowerModel model, string tag, int epoch, IReadOnlyDictionary<string, double> validation) => new()
    {
        Tag = tag,
        Epoch = epoch,
        CreatedAt = _clock.GetUtcNow(),
        Dataset = _dataset,
        Model = model.Options,
        Training = _options,
        Validation = validation,
        WeightsFile = "",
        WeightsSha256 = "",
        IdsFile = _idsFile,
        IdsSha256 = _idsSha,
        SeenFile = _seenFile,
        SeenSha256 = _seenSha,
        NeverRecommendFile = _neverFile,
        NeverRecommendSha256 = _neverSha,
    };
}
