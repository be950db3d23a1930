using System.Globalization;
using Spectre.Console;
using RankService.Ranking.Metrics;
using RankService.Ranking.Data;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary>How a command shows a run's epochs: one line each, or a live progress bar on a terminal.</summary>
internal static class TrainingProgress
{
    public static void PrintEpoch(EpochReport r)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch,3}/{r.TotalEpochs}  loss {r.TrainLoss,10:F4}  val NDCG@10 {r.Validation[MetricNames.Ndcg10]:F4}  HR@10 {r.Validation["HR@10"]:F4}  MRR {r.Validation["MRR"]:F4}  {r.EpochSeconds,6:F2}s{(r.IsBest ? "  *" : "")}"));
    }

    /// <summary>
    /// One bar over the epochs: it advances when an epoch ends, its label shows that epoch's train loss and validation
    /// NDCG@10 (* when it is the best so far), and Spectre's columns give elapsed time and the remaining-time estimate.
    /// Kept under 80 columns.
    /// </summary>
    public static TrainingResult TrainWithProgressBar(IAnsiConsole console, Trainer trainer, int epochs, RatingDataset data, string run, CancellationToken cancel)
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
                    double ndcg = r.Validation[MetricNames.Ndcg10];
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
}

/// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
