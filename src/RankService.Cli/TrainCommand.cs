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
    private static readonly Option<string> Data = new("--data") { Description = "MovieLens folder (ml-100k, ml-1m, ml-latest-small, ml-25m layouts), or 'synthetic' for generated data. A missing ml-100k/ml-1m/ml-latest-small/ml-25m folder is downloaded when online.", Required = true };
    private static readonly Option<string> Out = new("--out") { Description = "Folder for run outputs (checkpoints, TensorBoard, result.json).", DefaultValueFactory = _ => "runs" };
    private static readonly Option<bool> SkipMalformed = new("--skip-malformed") { Description = "Skip and count malformed lines instead of failing." };

    /// <param name="live">
    /// Where to draw the live progress bar; null picks the terminal when standard output is one, and plain lines
    /// (one per epoch) when output is redirected, as in CI logs and tests.
    /// </param>
    public static Command Create(IAnsiConsole? live = null)
    {
        var command = new Command("train", "Train a two-tower ranker on a MovieLens folder and compare it with popularity on validation and test.");
        foreach (Option option in new Option[] { Data, Out, SkipMalformed })
        {
            command.Options.Add(option);
        }
        var training = new TrainingOptionsCli(lists: false);
        training.AddTo(command);
        command.SetAction(parse => Run(parse, training, live ?? (Console.IsOutputRedirected ? null : AnsiConsole.Console)));
        return command;
    }

    private static int Run(ParseResult parse, TrainingOptionsCli training, IAnsiConsole? live)
    {
        var unreadable = new List<string>();
        TrainingOptions options = training.Read(parse, new TrainingOptions(), unreadable).Single();
        if (unreadable.Count > 0)
        {
            unreadable.ForEach(Console.Error.WriteLine);
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
