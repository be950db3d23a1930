using System.CommandLine;
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
/// <c>sweep</c>: trains every configuration of a grid (or a random sample of it) once per seed, in this process one
/// after another, and writes a leaderboard of mean ± std test metrics sorted by validation NDCG@10. Each
/// configuration is also a valid <c>POST /jobs</c> body (same option names), so the service can run any row as a job.
/// </summary>
internal static class SweepCommand
{
    private static readonly TrainingOptions Defaults = new();

    private static readonly Option<string> Data = new("--data") { Description = "MovieLens folder, or 'synthetic'; with --service, a data set name the service knows (ml-100k, synthetic, ...).", Required = true };
    private static readonly Option<string> Service = new("--service") { Description = "Base URL of a running RankService (http://localhost:5000): run every configuration and seed there as a POST /jobs job and wait for them, instead of training in this process." };
    private static readonly Option<string> ApiKey = new("--api-key") { Description = "API key sent as X-Api-Key with --service (default: the RANKSERVICE_API_KEY environment variable)." };
    private static readonly Option<double> PollSeconds = new("--poll-seconds") { Description = "With --service: seconds between job status checks.", DefaultValueFactory = _ => 2 };
    private static readonly Option<string> Protocol = new("--protocol") { Description = "temporal or recbole.", DefaultValueFactory = _ => Defaults.Protocol };
    private static readonly Option<int> SplitSeed = new("--split-seed") { Description = "Seed of the recbole split.", DefaultValueFactory = _ => Defaults.SplitSeed };
    private static readonly Option<string> Seeds = new("--seeds") { Description = "Comma-separated seeds; each configuration runs once per seed.", DefaultValueFactory = _ => "1,2,3" };
    private static readonly Option<string> Loss = new("--loss") { Description = "Comma-separated losses.", DefaultValueFactory = _ => Defaults.Loss };
    private static readonly Option<string> SoftmaxReduction = new("--softmax-reduction") { Description = "Comma-separated softmax reductions (mean, sum); used by the softmax loss.", DefaultValueFactory = _ => Defaults.SoftmaxReduction };
    private static readonly Option<string> LearningRate = new("--lr") { Description = "Comma-separated learning rates.", DefaultValueFactory = _ => Format(Defaults.LearningRate) };
    private static readonly Option<string> WeightDecay = new("--weight-decay") { Description = "Comma-separated weight decays.", DefaultValueFactory = _ => Format(Defaults.WeightDecay) };
    private static readonly Option<string> EmbeddingDim = new("--embedding-dim") { Description = "Comma-separated embedding sizes.", DefaultValueFactory = _ => Format(Defaults.EmbeddingDim) };
    private static readonly Option<string> Negatives = new("--negatives") { Description = "Comma-separated negatives per list.", DefaultValueFactory = _ => Format(Defaults.NegativesPerList) };
    private static readonly Option<string> Epochs = new("--epochs") { Description = "Comma-separated epoch limits.", DefaultValueFactory = _ => Format(Defaults.Epochs) };
    private static readonly Option<string> BatchSize = new("--batch-size") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => Format(Defaults.BatchSize) };
    private static readonly Option<string> MaxListSize = new("--max-list-size") { Description = "Comma-separated list caps.", DefaultValueFactory = _ => Format(Defaults.MaxListSize) };
    private static readonly Option<string> Ensemble = new("--ensemble") { Description = "none, or ease: also report each trained model blended with EASE (per-user standardised scores, the weight chosen on validation NDCG@10).", DefaultValueFactory = _ => "none" };
    private static readonly Option<double> ClipNorm = new("--clip-norm") { Description = "Gradient clipping norm for every configuration; 0 = none.", DefaultValueFactory = _ => Defaults.GradientClipNorm };
    private static readonly Option<int> Patience = new("--patience") { DefaultValueFactory = _ => Defaults.Patience };
    private static readonly Option<int> Random = new("--random") { Description = "Run this many configurations drawn from the grid (seeded by --sample-seed); 0 = the whole grid.", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> SampleSeed = new("--sample-seed") { DefaultValueFactory = _ => 0 };
    private static readonly Option<string> Baselines = new("--baselines") { Description = "Comma-separated baselines to add to the table: popularity, bpr, ease (BPR once per seed).", DefaultValueFactory = _ => "" };
    private static readonly Option<int> Threads = new("--threads") { Description = "CPU threads; 0 = one per core.", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> Out = new("--out") { Description = "Folder for the runs' checkpoints.", DefaultValueFactory = _ => "runs" };
    private static readonly Option<string?> Results = new("--results") { Description = "Append the leaderboard to this Markdown file (e.g. bench/RESULTS.md)." };

    public static Command Create()
    {
        var command = new Command("sweep", "Train a grid (or random sample) of configurations, each over several seeds, and write a leaderboard.");
        foreach (Option option in new Option[] { Data, Protocol, SplitSeed, Seeds, Loss, SoftmaxReduction, LearningRate, WeightDecay, EmbeddingDim, Negatives, Epochs, BatchSize, MaxListSize, ClipNorm, Patience, Random, SampleSeed, Baselines, Ensemble, Service, ApiKey, PollSeconds, Threads, Out, Results })
        {
            command.Options.Add(option);
        }
        command.SetAction(Run);
        return command;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static int Run(ParseResult parse)
    {
        List<TrainingOptions> grid;
        int[] seeds;
        string[] baselines;
        try
        {
            seeds = Lists.Ints(parse.GetValue(Seeds)!, "--seeds");
            baselines = Lists.Strings(parse.GetValue(Baselines)!);
            grid = (from loss in Lists.Strings(parse.GetValue(Loss)!)
                    from reduction in Lists.Strings(parse.GetValue(SoftmaxReduction)!)
                    from lr in Lists.Doubles(parse.GetValue(LearningRate)!, "--lr")
                    from wd in Lists.Doubles(parse.GetValue(WeightDecay)!, "--weight-decay")
                    from dim in Lists.Ints(parse.GetValue(EmbeddingDim)!, "--embedding-dim")
                    from negatives in Lists.Ints(parse.GetValue(Negatives)!, "--negatives")
                    from epochs in Lists.Ints(parse.GetValue(Epochs)!, "--epochs")
                    from batch in Lists.Ints(parse.GetValue(BatchSize)!, "--batch-size")
                    from cap in Lists.Ints(parse.GetValue(MaxListSize)!, "--max-list-size")
                    select Defaults with
                    {
                        Protocol = parse.GetValue(Protocol)!,
                        SplitSeed = parse.GetValue(SplitSeed),
                        Loss = loss,
                        SoftmaxReduction = reduction,
                        LearningRate = lr,
                        WeightDecay = wd,
                        EmbeddingDim = dim,
                        NegativesPerList = negatives,
                        Epochs = epochs,
                        BatchSize = batch,
                        MaxListSize = cap,
                        GradientClipNorm = parse.GetValue(ClipNorm),
                        Patience = parse.GetValue(Patience),
                        Threads = parse.GetValue(Threads),
                        Device = "auto",
                    }).ToList();
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        var errors = grid.SelectMany(o => o.Validate().Values).Distinct().ToList();
        errors.AddRange(baselines.Where(b => !Baseline.Names.Contains(b)).Select(b => $"Unknown baseline '{b}'. Use any of: {string.Join(", ", Baseline.Names)}."));
        string ensemble = parse.GetValue(Ensemble)!;
        if (ensemble is not ("none" or Baseline.Ease))
        {
            errors.Add($"Unknown --ensemble '{ensemble}'. Use none or ease.");
        }
        if (seeds.Length == 0)
        {
            errors.Add("--seeds needs at least one seed.");
        }
        if (parse.GetValue(Random) < 0)
        {
            errors.Add("--random must be 0 (whole grid) or more.");
        }
        string? service = parse.GetValue(Service);
        Uri? serviceUri = null;
        if (service is not null)
        {
            if (!Uri.TryCreate(service, UriKind.Absolute, out serviceUri) || serviceUri.Scheme is not ("http" or "https"))
            {
                errors.Add($"--service must be the service's http(s) base URL, such as http://localhost:5000; got '{service}'.");
            }
            if (baselines.Length > 0 || ensemble != "none")
            {
                errors.Add("--baselines and --ensemble run in this process; leave them out with --service (the jobs report the popularity baseline).");
            }
            if (parse.GetValue(PollSeconds) is not (> 0 and <= 3600))
            {
                errors.Add("--poll-seconds must be above 0 and at most 3600.");
            }
        }
        if (errors.Count > 0)
        {
            errors.ForEach(Console.Error.WriteLine);
            return 2;
        }
        if (parse.GetValue(Random) is > 0 and int sample && sample < grid.Count)
        {
            var rng = new Random(parse.GetValue(SampleSeed));
            grid = grid.OrderBy(_ => rng.Next()).Take(sample).ToList();
        }

        // The command line goes into the results file: an API key given on it is written as "***".
        string[] tokens = parse.Tokens.Select(t => t.Value).ToArray();
        string commandLine = "rankservice " + string.Join(' ', tokens.Select((t, i) => i > 0 && tokens[i - 1] == ApiKey.Name ? "***" : t));
        if (serviceUri is not null)
        {
            using HttpClient client = new() { BaseAddress = ServiceSweep.BaseAddress(serviceUri), Timeout = TimeSpan.FromMinutes(2) };
            if ((parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("RANKSERVICE_API_KEY")) is { Length: > 0 } key)
            {
                client.DefaultRequestHeaders.Add("X-Api-Key", key);
            }
            string dataset = parse.GetValue(Data)!;
            Console.WriteLine($"{dataset} on {serviceUri}: {grid.Count} configurations x {seeds.Length} seeds as jobs");
            int exit;
            try
            {
                exit = ServiceSweep.Run(client, dataset, grid, seeds, TimeSpan.FromSeconds(parse.GetValue(PollSeconds)), entries =>
                {
                    string markdown = Leaderboard.Markdown($"{dataset}, {grid[0].Protocol} protocol, sweep run as jobs on {serviceUri}", commandLine,
                        $"{DateTime.UtcNow:yyyy-MM-dd}; {grid.Count} configurations x seeds {string.Join(",", seeds)}, each a job of the service.", entries);
                    if (parse.GetValue(Results) is { Length: > 0 } file)
                    {
                        File.AppendAllText(file, Environment.NewLine + markdown);
                    }
                    return markdown;
                }, Console.Out, Console.Error);
            }
            catch (HttpRequestException e)
            {
                Console.Error.WriteLine($"The service at {serviceUri} could not be reached or answered an error: {e.Message}");
                return 3;
            }
            return exit;
        }

        if (!TrainCommand.TryLoadData(parse.GetValue(Data)!, false, out RatingDataset data))
        {
            return 3;
        }
        TorchThreads.UseForProcess(parse.GetValue(Threads)); // once per process, before training: see TorchThreads
        string protocol = parse.GetValue(Protocol)!;
        // A random suffix: two runs started in the same second must not share (and resume from) one folder.
        string sweepFolder = Path.Combine(parse.GetValue(Out)!, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-sweep-{data.Name}-{protocol}-{Guid.NewGuid().ToString("N")[..6]}");
        Console.WriteLine($"{data.Name}, {protocol}: {grid.Count} configurations x {seeds.Length} seeds; runs in {sweepFolder}");

        var entries = new List<LeaderboardEntry>();
        UserSplit split = EvaluationProtocol.Split(data, protocol, parse.GetValue(SplitSeed));
        foreach (string model in baselines)
        {
            var entry = new LeaderboardEntry(model, model == Baseline.Ease ? "lambda tuned on validation" : model == Baseline.Bpr ? "dim 64, Adam 1e-3, batch 2048" : "", [], [], []);
            foreach (int seed in model == Baseline.Bpr ? seeds : seeds.Take(1))
            {
                BaselineResult result = Baseline.Run(model, split, Trainer.Ks, new BprOptions { Seed = seed });
                entry.Validation.Add(result.Validation);
                entry.Test.Add(result.Test);
                entry.Notes.Add(result.Chosen);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model} seed {seed}: val NDCG@10 {result.Validation["NDCG@10"]:F4}, test NDCG@10 {result.Test["NDCG@10"]:F4} {result.Chosen}"));
            }
            entries.Add(entry);
        }
        EaseScorer? ease = null;
        if (ensemble == Baseline.Ease)
        {
            (ease, IReadOnlyDictionary<string, double> easeValidation) = Baseline.FitEase(split, Trainer.Ks);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ensemble: EASE lambda {ease.Lambda:G} (val NDCG@10 {easeValidation["NDCG@10"]:F4})"));
        }
        for (int c = 0; c < grid.Count; c++)
        {
            TrainingOptions config = grid[c];
            string name = Describe(config);
            var entry = new LeaderboardEntry("two-tower", name, [], [], []);
            var blended = new LeaderboardEntry("two-tower + ease", name, [], [], []);
            var blendWeights = new List<double>();
            var seconds = new List<double>();
            foreach (int seed in seeds)
            {
                TrainingOptions options = config with { Seed = seed };
                string run = Path.Combine(sweepFolder, $"{c + 1:D3}-seed{seed}");
                TrainingResult result = new Trainer(options).Train(data, run);
                entry.Validation.Add(result.BestValidation);
                entry.Test.Add(result.Test);
                entry.Notes.Add("");
                seconds.Add(result.History.Count > 0 ? result.History.Average(h => h.EpochSeconds) : 0);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"[{c + 1}/{grid.Count}] {name} seed {seed}: best epoch {result.BestEpoch}/{result.History.Count}, val NDCG@10 {result.BestValidation.GetValueOrDefault("NDCG@10"):F4}, test NDCG@10 {result.Test.GetValueOrDefault("NDCG@10"):F4} Recall@10 {result.Test.GetValueOrDefault("Recall@10"):F4}"));
                if (ease is not null && result.BestCheckpoint.Length > 0)
                {
                    (double weight, IReadOnlyDictionary<string, double> validation, IReadOnlyDictionary<string, double> test) = Blend(result.BestCheckpoint, ease, split);
                    blended.Validation.Add(validation);
                    blended.Test.Add(test);
                    blendWeights.Add(weight);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"[{c + 1}/{grid.Count}] + ease seed {seed}: weight {weight:G}, val NDCG@10 {validation["NDCG@10"]:F4}, test NDCG@10 {test["NDCG@10"]:F4} Recall@10 {test["Recall@10"]:F4}"));
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
        if (parse.GetValue(Results) is { Length: > 0 } file)
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

    /// <summary>The swept fields, spelled as <c>rankservice train</c> options.</summary>
    internal static string Describe(TrainingOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"--loss {o.Loss}{(o.SoftmaxReduction == Defaults.SoftmaxReduction ? "" : " --softmax-reduction " + o.SoftmaxReduction)} --lr {o.LearningRate} --weight-decay {o.WeightDecay} --embedding-dim {o.EmbeddingDim} --negatives {o.NegativesPerList} --epochs {o.Epochs} --batch-size {o.BatchSize} --max-list-size {o.MaxListSize} --clip-norm {o.GradientClipNorm} --patience {o.Patience}");
}
