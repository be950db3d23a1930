using System.Globalization;
using RankService.Ranking.Baselines;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Ensembles;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary>
/// <c>sweep</c> in this process: the baselines asked for, then every configuration once per seed, one after another,
/// each optionally blended with EASE; appends the leaderboard to the results file. Returns the exit code.
/// </summary>
internal static class LocalSweep
{
    public static int Run(string dataName, IReadOnlyList<TrainingOptions> grid, Func<TrainingOptions, string> describe, IReadOnlyList<int> seeds,
        IReadOnlyList<string> baselines, bool withEase, string outFolder, string commandLine, string? results)
    {
        if (!CliData.TryLoad(dataName, false, out RatingDataset data))
        {
            return 3;
        }
        string protocol = grid[0].Protocol.Wire();
        if (grid[0].Protocol == SplitProtocol.ColdUsers && (withEase || baselines.Any(b => b != Baseline.Popularity)))
        {
            // The blend and BPR/EASE would score the held-out users from an empty history; only the two-tower model folds them in.
            Console.Error.WriteLine("Under the cold-users protocol only the popularity baseline is evaluated, without --ensemble.");
            return 2;
        }
        string sweepFolder = RunFolder.Create(outFolder, $"sweep-{data.Name}-{protocol}");
        Console.WriteLine($"{data.Name}, {protocol}: {grid.Count} configurations x {seeds.Count} seeds; runs in {sweepFolder}");

        var entries = new List<LeaderboardEntry>();
        UserSplit split = EvaluationProtocol.Split(data, grid[0].Protocol, grid[0].SplitSeed);
        foreach (string model in baselines)
        {
            var entry = new LeaderboardEntry(model, model == Baseline.Ease ? "lambda tuned on validation" : model == Baseline.Bpr ? "dim 64, Adam 1e-3, batch 2048" : "", [], [], []);
            foreach (int seed in model == Baseline.Bpr ? seeds : seeds.Take(1))
            {
                BaselineResult result = Baseline.Run(model, split, Trainer.Ks, new BprOptions { Seed = seed });
                entry.Validation.Add(result.Validation);
                entry.Test.Add(result.Test);
                entry.Notes.Add(result.Chosen);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model} seed {seed}: val NDCG@10 {result.Validation[MetricNames.Ndcg10]:F4}, test NDCG@10 {result.Test[MetricNames.Ndcg10]:F4} {result.Chosen}"));
            }
            entries.Add(entry);
        }
        EaseScorer? ease = null;
        if (withEase)
        {
            (ease, IReadOnlyDictionary<string, double> easeValidation) = Baseline.FitEase(split, Trainer.Ks);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ensemble: EASE lambda {ease.Lambda:G} (val NDCG@10 {easeValidation[MetricNames.Ndcg10]:F4})"));
        }
        for (int c = 0; c < grid.Count; c++)
        {
            TrainingOptions config = grid[c];
            string name = describe(config);
            var entry = new LeaderboardEntry("two-tower", name, [], [], []);
            var blended = new LeaderboardEntry("two-tower + ease", name, [], [], []);
            var blendWeights = new List<double>();
            var seconds = new List<double>();
            foreach (int seed in seeds)
            {
                TrainingOptions options = config with { Seed = seed };
                string run = Path.Combine(sweepFolder, $"{c + 1:D3}-seed{seed}");
                TorchThreads.UseForProcess(options.Threads); // the sweep trains one run at a time: see TorchThreads
                TrainingResult result = new Trainer(options).Train(data, run);
                entry.Validation.Add(result.BestValidation);
                entry.Test.Add(result.Test);
                entry.Notes.Add("");
                seconds.Add(result.History.Count > 0 ? result.History.Average(h => h.EpochSeconds) : 0);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{c + 1}/{grid.Count}] {name} seed {seed}: best epoch {result.BestEpoch}/{result.History.Count}, val NDCG@10 {result.BestValidation.GetValueOrDefault(MetricNames.Ndcg10):F4}, test NDCG@10 {result.Test.GetValueOrDefault(MetricNames.Ndcg10):F4} Recall@10 {result.Test.GetValueOrDefault("Recall@10"):F4}"));
                if (ease is not null && result.BestCheckpoint.Length > 0)
                {
                    (double weight, IReadOnlyDictionary<string, double> validation, IReadOnlyDictionary<string, double> test) = Blend(result.BestCheckpoint, ease, split);
                    blended.Validation.Add(validation);
                    blended.Test.Add(test);
                    blendWeights.Add(weight);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{c + 1}/{grid.Count}] + ease seed {seed}: weight {weight:G}, val NDCG@10 {validation[MetricNames.Ndcg10]:F4}, test NDCG@10 {test[MetricNames.Ndcg10]:F4} Recall@10 {test["Recall@10"]:F4}"));
                }
            }
            entry.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{seconds.Average():F2} s/epoch"));
            entries.Add(entry);
            if (blended.Test.Count > 0)
            {
                blended.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"EASE lambda {ease!.Lambda:G}, two-tower weight per seed {string.Join(" / ", blendWeights.Select(w => w.ToString(CultureInfo.InvariantCulture)))}"));
                entries.Add(blended);
            }
        }

        string table = Leaderboard.Markdown($"{data.Name}, {protocol} protocol, sweep", commandLine,
            $"{DateTime.UtcNow:yyyy-MM-dd}, nproc {Environment.ProcessorCount}; {grid.Count} configurations x seeds {string.Join(",", seeds)}; epoch times are inflated when the machine is shared.",
            entries);
        Console.WriteLine(table);
        if (results is { Length: > 0 } file)
        {
            File.AppendAllText(file, Environment.NewLine + table);
        }
        return 0;
    }

    /// <summary>
    /// The best checkpoint of a run blended with EASE: the two-tower weight w (EASE gets 1 - w) chosen on validation
    /// NDCG@10 from <see cref="ScoreBlend.DefaultWeights"/>, then evaluated once on test.
    /// </summary>
    private static (double Weight, IReadOnlyDictionary<string, double> Validation, IReadOnlyDictionary<string, double> Test) Blend(
        string checkpoint, EaseScorer ease, UserSplit split)
    {
        LoadedCheckpoint loaded = CheckpointStore.Load(checkpoint);
        using TwoTowerModel model = loaded.Model;
        using var scorer = new ModelScorer(model);
        (double weight, IReadOnlyDictionary<string, double> validation) = ScoreBlend.TuneWeight(scorer, ease, split, Trainer.Ks);
        var blend = new ScoreBlend([scorer, ease], [weight, 1 - weight]);
        return (weight, validation, FullCatalogueEvaluator.Evaluate(blend, split, EvaluationTarget.Test, Trainer.Ks).Metrics);
    }
}
