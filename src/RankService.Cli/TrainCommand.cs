using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using RankService.Ranking.Metrics;
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
        // Every problem at once: values that could not be read (an unknown choice) and those out of range.
        var errors = new List<string>();
        TrainingOptions options = training.Read(parse, new TrainingOptions(), errors).Single();
        errors.AddRange(options.Validate().Values);
        if (errors.Count > 0)
        {
            errors.ForEach(Console.Error.WriteLine);
            return 2;
        }

        if (!CliData.TryLoad(parse.GetValue(Data)!, parse.GetValue(SkipMalformed), out RatingDataset data))
        {
            return 3;
        }
        Console.WriteLine($"{data.Name}: {data.UserCount:N0} users, {data.ItemCount:N0} items, {data.Ratings.Length:N0} ratings" +
            (data.SkippedLines > 0 ? $", {data.SkippedLines} malformed lines skipped" : ""));

        string run = RunFolder.Create(parse.GetValue(Out)!, $"{data.Name}-{options.Loss.Wire()}");
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
            ? trainer.Train(data, run, new SynchronousProgress<EpochReport>(TrainingProgress.PrintEpoch), cancel.Token)
            : TrainingProgress.TrainWithProgressBar(live, trainer, options.Epochs, data, run, cancel.Token);
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

    private static void PrintTable(TrainingResult result)
    {
        string[] metrics = ["HR@10", "NDCG@5", MetricNames.Ndcg10, "NDCG@20", "Recall@10", "MRR@10", "Precision@10", "MRR"];
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
}
