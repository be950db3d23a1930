using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary><c>train</c>: loads a MovieLens folder (downloading ml-100k when missing), trains, prints the result table.</summary>
internal static class TrainCommand
{
    private static readonly TrainingOptions Defaults = new();

    private static readonly Option<string> Data = new("--data") { Description = "MovieLens folder (ml-100k, ml-1m, ml-latest-small, ml-25m layouts), or 'synthetic' for generated data. A missing ml-100k/ml-1m/ml-latest-small/ml-25m folder is downloaded when online.", Required = true };
    private static readonly Option<string> Out = new("--out") { Description = "Folder for run outputs (checkpoints, TensorBoard, result.json).", DefaultValueFactory = _ => "runs" };
    private static readonly Option<bool> SkipMalformed = new("--skip-malformed") { Description = "Skip and count malformed lines instead of failing." };
    private static readonly Option<string> Protocol = new("--protocol") { Description = "temporal (leave-last-out) or recbole (random 80/10/10 per user, every rating a positive).", DefaultValueFactory = _ => Defaults.Protocol };
    private static readonly Option<int> SplitSeed = new("--split-seed") { Description = "Seed of the recbole split.", DefaultValueFactory = _ => Defaults.SplitSeed };
    private static readonly Option<string> Loss = new("--loss") { Description = "Loss: " + string.Join(", ", RankService.Ranking.Losses.LossRegistry.Names) + ".", DefaultValueFactory = _ => Defaults.Loss };
    private static readonly Option<double> Alpha = new("--alpha") { Description = "Hybrid weight: alpha * first + (1 - alpha) * second.", DefaultValueFactory = _ => Defaults.Alpha };
    private static readonly Option<string> HybridFirst = new("--hybrid-first") { Description = "Hybrid's first loss (any but hybrid).", DefaultValueFactory = _ => Defaults.HybridFirst };
    private static readonly Option<string> HybridSecond = new("--hybrid-second") { Description = "Hybrid's second loss (any but hybrid).", DefaultValueFactory = _ => Defaults.HybridSecond };
    private static readonly Option<double> Margin = new("--margin") { Description = "Margin of pairwise-hinge and triplet.", DefaultValueFactory = _ => Defaults.Margin };
    private static readonly Option<double> Temperature = new("--temperature") { Description = "approx-ndcg sigmoid temperature.", DefaultValueFactory = _ => Defaults.Temperature };
    private static readonly Option<string> LambdaWeighting = new("--lambda-weighting") { Description = "lambda-loss weighting: ndcg-loss2++ or lambdarank.", DefaultValueFactory = _ => Defaults.LambdaWeighting };
    private static readonly Option<double> LambdaMu = new("--lambda-mu") { Description = "lambda-loss mu of NDCG-Loss2++.", DefaultValueFactory = _ => Defaults.LambdaMu };
    private static readonly Option<int> LambdaK = new("--lambda-k") { Description = "lambda-loss truncation at k; 0 = whole list.", DefaultValueFactory = _ => Defaults.LambdaK };
    private static readonly Option<int> SoftmaxSamples = new("--softmax-samples") { Description = "softmax: candidates sampled per batch with log-q correction; 0 = full catalogue.", DefaultValueFactory = _ => Defaults.SoftmaxSamples };
    private static readonly Option<string> SoftmaxReduction = new("--softmax-reduction") { Description = "softmax: mean (every user weighs the same) or sum (every rated item weighs the same) over a list's rated items.", DefaultValueFactory = _ => Defaults.SoftmaxReduction };
    private static readonly Option<string> TripletForm = new("--triplet-form") { Description = "triplet: dot or distance.", DefaultValueFactory = _ => Defaults.TripletForm };
    private static readonly Option<string> TripletMining = new("--triplet-mining") { Description = "triplet negatives: random, hard or semi-hard.", DefaultValueFactory = _ => Defaults.TripletMining };
    private static readonly Option<double> TripletThreshold = new("--triplet-threshold") { Description = "triplet: lowest rating that makes a positive.", DefaultValueFactory = _ => Defaults.TripletThreshold };
    private static readonly Option<int> Epochs = new("--epochs") { DefaultValueFactory = _ => Defaults.Epochs };
    private static readonly Option<int> BatchSize = new("--batch-size") { Description = "Lists (users) per batch.", DefaultValueFactory = _ => Defaults.BatchSize };
    private static readonly Option<double> LearningRate = new("--lr") { DefaultValueFactory = _ => Defaults.LearningRate };
    private static readonly Option<double> WeightDecay = new("--weight-decay") { DefaultValueFactory = _ => Defaults.WeightDecay };
    private static readonly Option<string> Head = new("--head") { Description = "dot or concat-mlp.", DefaultValueFactory = _ => Defaults.Head };
    private static readonly Option<int> EmbeddingDim = new("--embedding-dim") { DefaultValueFactory = _ => Defaults.EmbeddingDim };
    private static readonly Option<string> Hidden = new("--hidden") { Description = "Comma-separated hidden layer sizes, e.g. 128,64; empty for plain embeddings.", DefaultValueFactory = _ => "" };
    private static readonly Option<double> Dropout = new("--dropout") { DefaultValueFactory = _ => Defaults.Dropout };
    private static readonly Option<bool> NoItemBias = new("--no-item-bias") { Description = "Leave out the learned per-item bias." };
    private static readonly Option<int> Negatives = new("--negatives") { Description = "Unrated items (label 0) added to each training list.", DefaultValueFactory = _ => Defaults.NegativesPerList };
    private static readonly Option<int> MaxListSize = new("--max-list-size") { Description = "Most recent train items kept per list.", DefaultValueFactory = _ => Defaults.MaxListSize };
    private static readonly Option<int> PairsPerList = new("--pairs-per-list") { Description = "Pairs sampled per list by pairwise losses; 0 = all.", DefaultValueFactory = _ => Defaults.PairsPerList };
    private static readonly Option<double> ClipNorm = new("--clip-norm") { Description = "Clip the gradient's global norm at this value before Adam; 0 = no clipping.", DefaultValueFactory = _ => Defaults.GradientClipNorm };
    private static readonly Option<int> Patience = new("--patience") { Description = "Epochs without better validation NDCG@10 before stopping; 0 = never.", DefaultValueFactory = _ => Defaults.Patience };
    private static readonly Option<int> Seed = new("--seed") { DefaultValueFactory = _ => Defaults.Seed };
    private static readonly Option<string> Device = new("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => Defaults.Device };
    private static readonly Option<string> EmbeddingUpdates = new("--embedding-updates") { Description = "Adam on the embedding tables: auto (dense up to 100,000 users + items, lazy above), dense or lazy (only the rows a batch touches; CPU).", DefaultValueFactory = _ => Defaults.EmbeddingUpdates };
    private static readonly Option<int> Threads = new("--threads") { Description = "CPU threads; 0 = one per core.", DefaultValueFactory = _ => Defaults.Threads };

    /// <param name="live">
    /// Where to draw the live progress bar; null picks the terminal when standard output is one, and plain lines
    /// (one per epoch) when output is redirected, as in CI logs and tests.
    /// </param>
    public static Command Create(IAnsiConsole? live = null)
    {
        var command = new Command("train", "Train a two-tower ranker on a MovieLens folder and compare it with popularity on validation and test.");
        foreach (Option option in new Option[] { Data, Out, SkipMalformed, Protocol, SplitSeed, Loss, Alpha, HybridFirst, HybridSecond, Margin, Temperature, LambdaWeighting, LambdaMu, LambdaK, SoftmaxSamples, SoftmaxReduction, TripletForm, TripletMining, TripletThreshold, Epochs, BatchSize, LearningRate, WeightDecay, Head, EmbeddingDim, Hidden, Dropout, NoItemBias, Negatives, MaxListSize, PairsPerList, ClipNorm, Patience, Seed, Device, EmbeddingUpdates, Threads })
        {
            command.Options.Add(option);
        }
        command.SetAction(parse => Run(parse, live ?? (Console.IsOutputRedirected ? null : AnsiConsole.Console)));
        return command;
    }

    private static int Run(ParseResult parse, IAnsiConsole? live)
    {
        TrainingOptions options;
        try
        {
            options = new TrainingOptions
            {
                Protocol = parse.GetValue(Protocol)!,
                SplitSeed = parse.GetValue(SplitSeed),
                Loss = parse.GetValue(Loss)!,
                Alpha = parse.GetValue(Alpha),
                HybridFirst = parse.GetValue(HybridFirst)!,
                HybridSecond = parse.GetValue(HybridSecond)!,
                Margin = parse.GetValue(Margin),
                Temperature = parse.GetValue(Temperature),
                LambdaWeighting = parse.GetValue(LambdaWeighting)!,
                LambdaMu = parse.GetValue(LambdaMu),
                LambdaK = parse.GetValue(LambdaK),
                SoftmaxSamples = parse.GetValue(SoftmaxSamples),
                SoftmaxReduction = parse.GetValue(SoftmaxReduction)!,
                TripletForm = parse.GetValue(TripletForm)!,
                TripletMining = parse.GetValue(TripletMining)!,
                TripletThreshold = parse.GetValue(TripletThreshold),
                Epochs = parse.GetValue(Epochs),
                BatchSize = parse.GetValue(BatchSize),
                LearningRate = parse.GetValue(LearningRate),
                WeightDecay = parse.GetValue(WeightDecay),
                Head = parse.GetValue(Head)!,
                EmbeddingDim = parse.GetValue(EmbeddingDim),
                HiddenSizes = ParseSizes(parse.GetValue(Hidden) ?? ""),
                Dropout = parse.GetValue(Dropout),
                ItemBias = !parse.GetValue(NoItemBias),
                NegativesPerList = parse.GetValue(Negatives),
                MaxListSize = parse.GetValue(MaxListSize),
                PairsPerList = parse.GetValue(PairsPerList),
                GradientClipNorm = parse.GetValue(ClipNorm),
                Patience = parse.GetValue(Patience),
                Seed = parse.GetValue(Seed),
                Device = parse.GetValue(Device)!,
                EmbeddingUpdates = parse.GetValue(EmbeddingUpdates)!,
                Threads = parse.GetValue(Threads),
            };
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        IReadOnlyDictionary<string, string> errors = options.Validate();
        if (errors.Count > 0)
        {
            foreach (string error in errors.Values)
            {
                Console.Error.WriteLine(error);
            }
            return 2;
        }

        if (!TryLoadData(parse.GetValue(Data)!, parse.GetValue(SkipMalformed), out RatingDataset data))
        {
            return 3;
        }
        Console.WriteLine($"{data.Name}: {data.UserCount:N0} users, {data.ItemCount:N0} items, {data.Ratings.Length:N0} ratings" +
            (data.SkippedLines > 0 ? $", {data.SkippedLines} malformed lines skipped" : ""));

        // A random suffix: two runs started in the same second must not share (and resume from) one folder.
        string run = Path.Combine(parse.GetValue(Out)!, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{data.Name}-{options.Loss}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(run);
        Console.WriteLine($"run folder: {run}");
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
            Console.WriteLine("stopping after the current batch...");
        };

        TorchThreads.UseForProcess(options.Threads); // once per process, before training: see TorchThreads
        var trainer = new Trainer(options);
        TrainingResult result = live is null
            ? trainer.Train(data, run, new SynchronousProgress<EpochReport>(PrintEpoch), cancel.Token)
            : TrainWithProgressBar(live, trainer, options.Epochs, data, run, cancel.Token);
        PrintTable(result);
        File.WriteAllText(Path.Combine(run, "result.json"), JsonSerializer.Serialize(new
        {
            dataset = data.Name,
            options,
            result.BestEpoch,
            epochsRun = result.History.Count,
            secondsPerEpoch = result.History.Count > 0 ? result.History.Average(h => h.EpochSeconds) : 0,
            validation = result.BestValidation,
            test = result.Test,
            popularityValidation = result.PopularityValidation,
            popularityTest = result.PopularityTest,
            result.BestCheckpoint,
            result.StoppedEarly,
            result.Cancelled,
        }, CheckpointStore.Json));
        return result.Cancelled ? 130 : 0;
    }

    /// <summary>Loads a data set for a command; a data error is printed to stderr (exit code 3 by convention).</summary>
    internal static bool TryLoadData(string data, bool skipMalformed, out RatingDataset dataset)
    {
        try
        {
            dataset = LoadData(data, skipMalformed);
            return true;
        }
        catch (MovieLensDataException e)
        {
            Console.Error.WriteLine(e.Message);
            dataset = null!;
            return false;
        }
    }

    internal static RatingDataset LoadData(string data, bool skipMalformed)
    {
        if (string.Equals(data, "synthetic", StringComparison.OrdinalIgnoreCase))
        {
            return SyntheticMovieLens.Generate(new SyntheticOptions());
        }
        string folder = Path.GetFullPath(data);
        if (!Directory.Exists(folder) || !Directory.EnumerateFiles(folder).Any())
        {
            string root = Path.GetDirectoryName(folder)!;
            Console.WriteLine($"{folder} is missing; downloading {Path.GetFileName(folder)} from GroupLens...");
            folder = MovieLensDownloader.EnsureAsync(root, Path.GetFileName(folder)).GetAwaiter().GetResult();
        }
        return MovieLensLoader.Load(folder, new MovieLensLoadOptions { SkipMalformedLines = skipMalformed });
    }

    private static int[] ParseSizes(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
                ? v
                : throw new FormatException($"--hidden takes comma-separated integers such as 128,64; '{s}' is not one."))
            .ToArray();

    private static void PrintEpoch(EpochReport r)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch,3}/{r.TotalEpochs}  loss {r.TrainLoss,10:F4}  val NDCG@10 {r.Validation["NDCG@10"]:F4}  HR@10 {r.Validation["HR@10"]:F4}  MRR {r.Validation["MRR"]:F4}  {r.EpochSeconds,6:F2}s{(r.IsBest ? "  *" : "")}"));
    }

    /// <summary>
    /// One bar over the epochs: it advances when an epoch ends, its label shows that epoch's train loss and validation
    /// NDCG@10 (* when it is the best so far), and Spectre's columns give elapsed time and the remaining-time estimate.
    /// Kept under 80 columns.
    /// </summary>
    private static TrainingResult TrainWithProgressBar(IAnsiConsole console, Trainer trainer, int epochs, RatingDataset data, string run, CancellationToken cancel)
    {
        TrainingResult? result = null;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 16 }, new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask(Markup.Escape($"epoch 0/{epochs} training..."), maxValue: epochs);
                var progress = new SynchronousProgress<EpochReport>(r =>
                {
                    double ndcg = r.Validation["NDCG@10"];
                    task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                        $"epoch {r.Epoch}/{r.TotalEpochs} loss {r.TrainLoss:G5} NDCG@10 {ndcg:F4}{(r.IsBest ? "*" : " ")}"));
                    task.Value = r.Epoch;
                });
                result = trainer.Train(data, run, progress, cancel);
                task.Value = task.MaxValue; // early stopping ends the run before the last epoch
                task.StopTask();
            });
        return result!;
    }

    private static void PrintTable(TrainingResult result)
    {
        string[] metrics = ["HR@10", "NDCG@5", "NDCG@10", "NDCG@20", "Recall@10", "MRR@10", "Precision@10", "MRR"];
        Console.WriteLine();
        Console.WriteLine(result.Cancelled ? "cancelled; best checkpoint so far:" : result.StoppedEarly ? $"stopped early; best epoch {result.BestEpoch}" : $"best epoch {result.BestEpoch}");
        Console.WriteLine($"{"",-22}{string.Join("", metrics.Select(m => $"{m,13}"))}");
        void Row(string name, IReadOnlyDictionary<string, double> values) =>
            Console.WriteLine($"{name,-22}{string.Join("", metrics.Select(m => values.TryGetValue(m, out double v) ? v.ToString("F4", CultureInfo.InvariantCulture).PadLeft(13) : "            -"))}");
        Row("model, validation", result.BestValidation);
        Row("popularity, validation", result.PopularityValidation);
        Row("model, test", result.Test);
        Row("popularity, test", result.PopularityTest);
        if (result.BestCheckpoint.Length > 0)
        {
            Console.WriteLine($"best checkpoint: {result.BestCheckpoint}");
        }
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
