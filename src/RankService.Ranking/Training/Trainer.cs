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
    public const string SelectionMetric = MetricNames.Ndcg10;

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

    /// <summary>The clock of the manifests' creation times.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The seed of an epoch's shuffling, negative sampling, tie breaking and dropout.</summary>
    internal static int EpochSeed(int seed, int epoch) => unchecked((seed * 1_000_003) + epoch);

    /// <summary>
    /// Runs training. <paramref name="runFolder"/> receives <c>checkpoints/</c> and <c>tensorboard/</c>.
    /// Cancellation stops within one batch; the best checkpoint so far stays valid and is evaluated.
    /// </summary>
    public TrainingResult Train(RatingDataset data, string runFolder, IProgress<EpochReport>? progress = null, CancellationToken cancellationToken = default)
    {
        TrainingOptions o = _options;
        Profile?.Restart();
        Device device = DeviceSelector.Resolve(o.Device);
        UserSplit split = EvaluationProtocol.Split(data, o.Protocol, o.SplitSeed);
        var batcher = new ListBatcher(split, o.MaxListSize, o.NegativesPerList, o.BatchSize);
        if (Profile is not null)
        {
            Profile.BatchesPerEpoch = batcher.BatchCount;
        }
        IRankingLoss loss = LossRegistry.Create(o.Loss, o);
        using var lossInputs = new LossInputs(loss, split, device);
        var checkpoints = new RunCheckpoints(runFolder, data, o, Clock);
        (TwoTowerModel model, AdamOptimizer optimizer, ResumeState? resume) = StartOrResume(data, device, checkpoints.Folder);
        using TwoTowerModel ownedModel = model;
        using AdamOptimizer ownedOptimizer = optimizer;
        checkpoints.SaveDataFiles(data);
        var board = torch.utils.tensorboard.SummaryWriter(Path.Combine(runFolder, "tensorboard")); // appends each event to its file as it is added
        var stopping = new EarlyStopping(o.Patience, resume);
        var history = new List<EpochReport>(resume?.History ?? []);
        int lastEpoch = resume?.Epoch ?? 0;
        Profile?.Lap("setup");

        var epochs = new EpochRunner(model, optimizer, loss, lossInputs, batcher, device, o, Profile, BeforeBatch);
        bool cancelled = false;
        while (lastEpoch < o.Epochs && !stopping.ShouldStop(lastEpoch))
        {
            int epoch = lastEpoch + 1;
            var clock = Stopwatch.StartNew();
            Profile?.StartEpoch(epoch);
            EpochOutcome outcome = epochs.Run(epoch, cancellationToken);
            if (outcome.Interrupted)
            {
                cancelled = true;
                break;
            }
            Profile?.Restart();
            IReadOnlyDictionary<string, double> validation = Evaluate(model, split, EvaluationTarget.Validation);
            Profile?.Lap("validation");
            bool isBest = stopping.Observe(epoch, validation);
            checkpoints.SaveEpoch(model, epoch, validation, isBest);
            Profile?.Lap("checkpoint");

            var report = new EpochReport(epoch, o.Epochs, outcome.Loss, outcome.Parts, validation, clock.Elapsed.TotalSeconds, isBest);
            history.Add(report);
            LogEpoch(board, report, o.LearningRate);
            // Reported before the resume state is saved: a crash between the two repeats this epoch, so whoever
            // records reports sees every epoch at least once (and a repeat replaces the earlier report).
            progress?.Report(report);
            checkpoints.SaveResume(model, optimizer, epoch, stopping, history);
            Profile?.Lap("resume");
            lastEpoch = epoch;
        }

        // A service shutting down that will resume the run elsewhere skips the final evaluation.
        bool evaluate = !(cancelled && SkipEvaluationWhenCancelled?.Invoke() == true);
        FinalMetrics final = evaluate ? EvaluateFinal(model, split, batcher.ListCount, checkpoints, stopping, board) : FinalMetrics.None;
        return new TrainingResult(history, stopping.BestEpoch, stopping.BestValidation, final.Test, final.PopularityValidation, final.PopularityTest,
            stopping.BestEpoch > 0 ? checkpoints.BestPath : "", history.Count > 0 ? checkpoints.LastPath : "",
            StoppedEarly: stopping.ShouldStop(lastEpoch), cancelled)
        {
            ResumedAfterEpoch = resume?.Epoch ?? 0,
        };
    }

    /// <summary>
    /// The model and optimiser a run starts from: the saved resume state in <paramref name="folder"/> when one belongs
    /// to this data and these options, else the seeded initialisation.
    /// </summary>
    private (TwoTowerModel Model, AdamOptimizer Optimizer, ResumeState? Resume) StartOrResume(RatingDataset data, Device device, string folder)
    {
        TrainingOptions o = _options;
        bool lazy = o.LazyEmbeddingUpdates(data.UserCount, data.ItemCount);
        if (lazy && device.type != DeviceType.CPU)
        {
            // The lazy update runs over CPU memory; a GPU makes the dense step cheap anyway.
            Log?.Invoke($"Lazy embedding updates run on CPU only: dense updates on {device}.");
            lazy = false;
        }
        (TwoTowerModel model, AdamOptimizer optimizer) = Initialise(data, device, lazy);
        try
        {
            ResumeState? resume = ResumeState.TryLoad(folder, data.Fingerprint, o, model, optimizer);
            if (resume is not null)
            {
                Log?.Invoke($"Resuming after epoch {resume.Epoch} of {o.Epochs} (best epoch {resume.BestEpoch}).");
            }
            return (model, optimizer, resume);
        }
        catch (CheckpointException e)
        {
            Log?.Invoke($"Not resuming: {e.Message} Training starts from epoch 1.");
            // A refused load may have touched the model: start again from the seeded initialisation.
            optimizer.Dispose();
            model.Dispose();
            (model, optimizer) = Initialise(data, device, lazy);
            return (model, optimizer, null);
        }
    }

    /// <summary>A freshly initialised model (weights drawn from the run's seed) and its optimiser.</summary>
    private (TwoTowerModel Model, AdamOptimizer Optimizer) Initialise(RatingDataset data, Device device, bool lazy)
    {
        TrainingOptions o = _options;
        // Initial weights from a generator of the run's own: libtorch's global one is shared by concurrent runs.
        using var init = new Generator(unchecked((ulong)o.Seed), CPU);
        var model = new TwoTowerModel(data.UserCount, data.ItemCount, o.ToModelOptions(), lazy, init);
        model.to(device);
        return (model, new AdamOptimizer(model.parameters(), o.LearningRate, o.WeightDecay));
    }

    /// <summary>Test metrics of the best checkpoint and the popularity baseline on validation and test.</summary>
    private sealed record FinalMetrics(
        IReadOnlyDictionary<string, double> Test,
        IReadOnlyDictionary<string, double> PopularityValidation,
        IReadOnlyDictionary<string, double> PopularityTest)
    {
        public static readonly FinalMetrics None = new(new Dictionary<string, double>(), new Dictionary<string, double>(), new Dictionary<string, double>());
    }

    /// <summary>
    /// Reloads the best checkpoint, evaluates it on test (saved into its manifest), and the popularity baseline. Under
    /// <c>cold-users</c> the test users were never trained on: each is folded in from their fold-in items first.
    /// </summary>
    private FinalMetrics EvaluateFinal(TwoTowerModel model, UserSplit split, int trainingLists, RunCheckpoints checkpoints, EarlyStopping stopping, SummaryWriter board)
    {
        UserSplit testSplit = split is ColdUsersSplit cold ? cold.TestSplit : split;
        Profile?.Restart();
        IReadOnlyDictionary<string, double> test = new Dictionary<string, double>();
        if (stopping.BestEpoch > 0)
        {
            CheckpointStore.LoadWeightsInto(checkpoints.BestPath, model);
            test = split is ColdUsersSplit { TrainedIn: false } coldUsers
                ? ColdUsersEvaluator.Evaluate(UserFoldIn.FromTraining(model, _options, trainingLists), new PrecomputedScorer(model), coldUsers, Ks).Metrics
                : Evaluate(model, split, EvaluationTarget.Test);
            checkpoints.SaveTested(model, stopping, test);
            foreach ((string name, double value) in test)
            {
                board.add_scalar("test/" + name, (float)value, stopping.BestEpoch);
            }
        }
        Profile?.Lap("test");
        var popularity = new PopularityScorer(split);
        var metrics = new FinalMetrics(test,
            FullCatalogueEvaluator.Evaluate(popularity, split, EvaluationTarget.Validation, Ks).Metrics,
            FullCatalogueEvaluator.Evaluate(popularity, testSplit, EvaluationTarget.Test, Ks).Metrics);
        Profile?.Lap("baseline");
        return metrics;
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
