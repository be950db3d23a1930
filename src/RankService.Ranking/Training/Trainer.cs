using System.Diagnostics;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RankService.Ranking.Training;

/// <summary>
/// Trains a two-tower model on the split of <see cref="TrainingOptions.Protocol"/> (temporal leave-last-out or
/// RecBole's random 80/10/10): Adam with L2 weight decay, gradient-norm
/// clipping, early stopping on validation NDCG@10, best and last checkpoints, TensorBoard scalars.
/// At the end the best checkpoint is reloaded and evaluated on test, next to the popularity baseline.
/// After every epoch it also saves a <see cref="ResumeState"/>; a run into a folder that holds one continues after
/// its last epoch (a crashed or stopped job run again). Each epoch reseeds its random streams from (seed, epoch), so
/// a resumed run draws what the uninterrupted run would have.
/// The loop runs on the calling thread with one dispose scope per batch; call it from a background thread.
/// </summary>
public sealed class Trainer
{
    /// <summary>The validation metric that selects the best checkpoint and drives early stopping.</summary>
    public const string SelectionMetric = "NDCG@10";

    public static readonly IReadOnlyList<int> Ks = [5, 10, 20];

    private readonly TrainingOptions _options;

    public Trainer(TrainingOptions options)
    {
        IReadOnlyDictionary<string, string> errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid training options: " + string.Join(" ", errors.Values), nameof(options));
        }
        _options = options;
    }

    /// <summary>Receives warnings the caller should log (a resume state refused, so the run starts from epoch 1).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// Asked when a run was cancelled: true skips the test and baseline evaluation (a service shutting down that will
    /// resume the run elsewhere). Null or false evaluates the best checkpoint so far, as a finished run does.
    /// </summary>
    public Func<bool>? SkipEvaluationWhenCancelled { get; init; }

    /// <summary>Called before each batch with (epoch, batch, model): lets tests inject a fault.</summary>
    internal Action<int, int, TwoTowerModel>? BeforeBatch { get; init; }

    /// <summary>Receives the time spent per phase (data preparation, forward, backward, optimiser, validation, saving).</summary>
    public TrainingProfile? Profile { get; init; }

    /// <summary>The seed of an epoch's shuffling, negative sampling, tie breaking and dropout.</summary>
    internal static int EpochSeed(int seed, int epoch) => unchecked((seed * 1_000_003) + epoch);

    /// <summary>
    /// Runs training. <paramref name="runFolder"/> receives <c>checkpoints/</c> and <c>tensorboard/</c>.
    /// Cancellation stops within one batch; the best checkpoint so far stays valid and is evaluated.
    /// </summary>
    public TrainingResult Train(RatingDataset data, string runFolder, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        TrainingOptions o = _options;
        TrainingProfile? profile = Profile;
        profile?.Restart();
        Device device = DeviceSelector.Resolve(o.Device);
        UserSplit split = EvaluationProtocol.Split(data, o.Protocol, o.SplitSeed);
        var batcher = new ListBatcher(split, o.MaxListSize, o.NegativesPerList, o.BatchSize);
        if (profile is not null)
        {
            profile.BatchesPerEpoch = batcher.BatchCount;
        }
        IRankingLoss loss = LossRegistry.Create(o.Loss, o.ToLossOptions());
        using var lossInputs = new LossInputs(loss, split, device);
        string checkpoints = Path.Combine(runFolder, "checkpoints");
        Directory.CreateDirectory(checkpoints);

        bool lazy = o.LazyEmbeddingUpdates(data.UserCount, data.ItemCount);
        if (lazy && device.type != DeviceType.CPU)
        {
            // The lazy update runs over CPU memory; a GPU makes the dense step cheap anyway.
            Log?.Invoke($"Lazy embedding updates run on CPU only: dense updates on {device}.");
            lazy = false;
        }
        // Initial weights from a generator of the run's own: libtorch's global one is shared by concurrent runs.
        TwoTowerModel NewModel()
        {
            using var init = new Generator(unchecked((ulong)o.Seed), CPU);
            return new TwoTowerModel(data.UserCount, data.ItemCount, o.ToModelOptions(), lazy, init);
        }
        var model = NewModel();
        model.to(device);
        var optimizer = new AdamOptimizer(model.parameters(), o.LearningRate, o.WeightDecay);
        ResumeState? resume = null;
        try
        {
            resume = ResumeState.TryLoad(checkpoints, data.Fingerprint, o, model, optimizer);
        }
        catch (CheckpointException e)
        {
            Log?.Invoke($"Not resuming: {e.Message} Training starts from epoch 1.");
            // A refused load may have touched the model: start again from the seeded initialisation.
            optimizer.Dispose();
            model.Dispose();
            model = NewModel();
            model.to(device);
            optimizer = new AdamOptimizer(model.parameters(), o.LearningRate, o.WeightDecay);
        }
        using TwoTowerModel ownedModel = model;
        using AdamOptimizer ownedOptimizer = optimizer;
        var board = torch.utils.tensorboard.SummaryWriter(Path.Combine(runFolder, "tensorboard")); // appends each event to its file as it is added

        (string idsFile, string idsSha) = CheckpointStore.SaveIds(checkpoints, new CheckpointIds(
            data.Users.RawIds, data.Items.RawIds, data.Movies.Select(m => m.Title).ToArray()));
        (string seenFile, string seenSha) = CheckpointStore.SaveSeen(checkpoints, SeenItems.FromDataset(data));
        var datasetInfo = new DatasetInfo(data.Name, data.Format.ToString(), data.Fingerprint, data.UserCount, data.ItemCount, data.Ratings.Length);
        CheckpointManifest Manifest(string tag, int epoch, IReadOnlyDictionary<string, double> validation) => new()
        {
            Tag = tag,
            Epoch = epoch,
            CreatedAt = DateTimeOffset.UtcNow,
            Dataset = datasetInfo,
            Model = model.Options,
            Training = o,
            Validation = validation,
            WeightsFile = "",
            WeightsSha256 = "",
            IdsFile = idsFile,
            IdsSha256 = idsSha,
            SeenFile = seenFile,
            SeenSha256 = seenSha,
        };

        var history = new List<EpochReport>();
        double best = double.NegativeInfinity;
        int bestEpoch = 0;
        IReadOnlyDictionary<string, double> bestValidation = new Dictionary<string, double>();
        string bestPath = CheckpointStore.ManifestPath(checkpoints, "best");
        string lastPath = CheckpointStore.ManifestPath(checkpoints, "last");
        bool cancelled = false;
        bool stoppedEarly = false;
        int firstEpoch = 1;
        if (resume is not null)
        {
            history.AddRange(resume.History);
            bestEpoch = resume.BestEpoch;
            bestValidation = resume.BestValidation;
            best = bestEpoch > 0 ? bestValidation[SelectionMetric] : double.NegativeInfinity;
            firstEpoch = resume.Epoch + 1;
            stoppedEarly = o.Patience > 0 && resume.Epoch - bestEpoch >= o.Patience;
            Log?.Invoke($"Resuming after epoch {resume.Epoch} of {o.Epochs} (best epoch {bestEpoch}).");
        }
        profile?.Lap("setup");

        for (int epoch = firstEpoch; epoch <= o.Epochs && !stoppedEarly; epoch++)
        {
            var clock = Stopwatch.StartNew();
            int epochSeed = EpochSeed(o.Seed, epoch);
            var rng = new Random(epochSeed);
            using var generator = new Generator((ulong)epochSeed, device);
            model.UseDropoutGenerator(generator);
            profile?.StartEpoch(epoch);
            (double trainLoss, Dictionary<string, double> parts, bool interrupted) =
                RunEpoch(model, optimizer, loss, lossInputs, batcher, rng, generator, device, epoch, cancellationToken);
            if (interrupted)
            {
                cancelled = true;
                break;
            }
            profile?.Restart();
            IReadOnlyDictionary<string, double> validation = Evaluate(model, split, EvaluationTarget.Validation);
            profile?.Lap("validation");
            double seconds = clock.Elapsed.TotalSeconds;
            double score = validation[SelectionMetric];
            bool isBest = score > best;
            if (isBest)
            {
                best = score;
                bestEpoch = epoch;
                bestValidation = validation;
                CheckpointStore.Save(checkpoints, model, Manifest("best", epoch, validation));
            }
            CheckpointStore.Save(checkpoints, model, Manifest("last", epoch, validation));
            profile?.Lap("checkpoint");

            var report = new EpochReport(epoch, o.Epochs, trainLoss, parts, validation, seconds, isBest);
            history.Add(report);
            LogEpoch(board, report, o.LearningRate);
            // Reported before the resume state is saved: a crash between the two repeats this epoch, so whoever
            // records reports sees every epoch at least once (and a repeat replaces the earlier report).
            progress?.Report(report);
            ResumeState.Save(checkpoints, model, optimizer, new ResumeState
            {
                Epoch = epoch,
                BestEpoch = bestEpoch,
                BestValidation = bestValidation,
                History = history.ToList(),
                DatasetFingerprint = data.Fingerprint,
                Training = o,
            });
            profile?.Lap("resume");

            if (o.Patience > 0 && epoch - bestEpoch >= o.Patience)
            {
                stoppedEarly = true;
                break;
            }
        }

        IReadOnlyDictionary<string, double> test = new Dictionary<string, double>();
        if (cancelled && SkipEvaluationWhenCancelled?.Invoke() == true)
        {
            return new TrainingResult(history, bestEpoch, bestValidation, test, test, test,
                bestEpoch > 0 ? bestPath : "", history.Count > 0 ? lastPath : "", stoppedEarly, cancelled)
            {
                ResumedAfterEpoch = resume?.Epoch ?? 0,
            };
        }
        profile?.Restart();
        if (bestEpoch > 0)
        {
            CheckpointStore.LoadWeightsInto(bestPath, model);
            test = Evaluate(model, split, EvaluationTarget.Test);
            CheckpointStore.Save(checkpoints, model, Manifest("best", bestEpoch, bestValidation) with { Test = test });
            foreach ((string name, double value) in test)
            {
                board.add_scalar("test/" + name, (float)value, bestEpoch);
            }
        }
        profile?.Lap("test");
        var popularity = new PopularityScorer(split);
        IReadOnlyDictionary<string, double> popularityValidation = FullCatalogueEvaluator.Evaluate(popularity, split, EvaluationTarget.Validation, Ks).Metrics;
        IReadOnlyDictionary<string, double> popularityTest = FullCatalogueEvaluator.Evaluate(popularity, split, EvaluationTarget.Test, Ks).Metrics;
        profile?.Lap("baseline");

        return new TrainingResult(history, bestEpoch, bestValidation, test, popularityValidation, popularityTest,
            bestEpoch > 0 ? bestPath : "", history.Count > 0 ? lastPath : "", stoppedEarly, cancelled)
        {
            ResumedAfterEpoch = resume?.Epoch ?? 0,
        };
    }

    private (double Loss, Dictionary<string, double> Parts, bool Interrupted) RunEpoch(
        TwoTowerModel model, AdamOptimizer optimizer, IRankingLoss loss, LossInputs lossInputs, ListBatcher batcher, Random rng,
        Generator generator, Device device, int epoch, CancellationToken cancellationToken)
    {
        model.train();
        double total = 0;
        var parts = new Dictionary<string, double>();
        int batches = 0;
        int batchIndex = 0;
        TrainingProfile? profile = Profile;
        foreach (ListBatch batch in batcher.Epoch(rng))
        {
            profile?.Lap("prep");
            if (cancellationToken.IsCancellationRequested)
            {
                return (0, parts, true);
            }
            batchIndex++;
            BeforeBatch?.Invoke(epoch, batchIndex, model);
            using var scope = NewDisposeScope();
            long rows = batch.Users.Length;
            Tensor users = tensor(batch.Users.Select(u => (long)u).ToArray(), dtype: ScalarType.Int64, device: device);
            Tensor items = tensor(batch.Items, new[] { rows, batch.Width }, dtype: ScalarType.Int64, device: device);
            Tensor labels = tensor(batch.Labels, new[] { rows, batch.Width }, device: device);
            Tensor mask = tensor(batch.Mask, new[] { rows, batch.Width }, device: device);
            profile?.Lap("tensors");

            optimizer.ZeroGrad();
            profile?.Lap("zero_grad");
            LossOutput output = loss.Compute(lossInputs.Build(model, users, items, labels, mask), generator);
            double value = output.Total.item<float>();
            profile?.Lap("forward");
            if (!double.IsFinite(value))
            {
                throw new InvalidOperationException($"The {loss.Name} loss became {value} at epoch {epoch}, batch {batchIndex}: lower the learning rate or raise the weight decay.");
            }
            output.Total.backward();
            profile?.Lap("backward");
            if (_options.GradientClipNorm > 0 && model.SparseGradients)
            {
                optimizer.ClipGradNorm(_options.GradientClipNorm);
            }
            else if (_options.GradientClipNorm > 0)
            {
                nn.utils.clip_grad_norm_(model.parameters(), _options.GradientClipNorm);
            }
            profile?.Lap("clip");
            optimizer.Step();
            profile?.Lap("step");

            total += value;
            foreach ((string name, Tensor part) in output.Parts)
            {
                parts[name] = parts.GetValueOrDefault(name) + part.item<float>();
            }
            batches++;
            profile?.EndBatch(batch.Mask);
        }
        foreach (string name in parts.Keys.ToList())
        {
            parts[name] /= Math.Max(1, batches);
        }
        return (total / Math.Max(1, batches), parts, false);
    }

    private static IReadOnlyDictionary<string, double> Evaluate(TwoTowerModel model, UserSplit split, EvaluationTarget target)
    {
        using var scorer = new ModelScorer(model);
        return FullCatalogueEvaluator.Evaluate(scorer, split, target, Ks).Metrics;
    }

    private static void LogEpoch(SummaryWriter board, EpochReport report, double learningRate)
    {
        board.add_scalar("train/loss", (float)report.TrainLoss, report.Epoch);
        foreach ((string name, double value) in report.LossParts)
        {
            board.add_scalar("train/loss_" + name, (float)value, report.Epoch);
        }
        foreach ((string name, double value) in report.Validation)
        {
            board.add_scalar("val/" + name, (float)value, report.Epoch);
        }
        board.add_scalar("train/learning_rate", (float)learningRate, report.Epoch);
        board.add_scalar("train/epoch_seconds", (float)report.EpochSeconds, report.Epoch);
    }
}
