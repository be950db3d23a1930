using System.CommandLine;
using System.Globalization;
using RankService.Ranking.Metrics;
using RankService.Ranking.Baselines;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary><c>baseline</c>: popularity, BPR-MF or EASE on a split, evaluated like the two-tower model.</summary>
internal static class BaselineCommand
{
    private static readonly Option<string> Data = new("--data") { Description = "MovieLens folder, or 'synthetic'.", Required = true };
    private static readonly Option<string> Model = new("--model") { Description = "popularity, bpr or ease.", Required = true };
    private static readonly Option<string> Protocol = new("--protocol") { Description = "temporal, recbole, cold-users or cold-users-warm.", DefaultValueFactory = _ => SplitProtocol.Temporal.Wire() };
    private static readonly Option<int> SplitSeed = new("--split-seed") { Description = "Seed of the recbole and cold-users splits.", DefaultValueFactory = _ => RandomRatioSplit.DefaultSeed };
    private static readonly Option<string> Seeds = new("--seeds") { Description = "Comma-separated training seeds (BPR); one run each.", DefaultValueFactory = _ => "42" };
    private static readonly Option<string> Lambdas = new("--lambdas") { Description = "EASE: comma-separated lambdas; the best on validation NDCG@10 is used.", DefaultValueFactory = _ => string.Join(',', Baseline.DefaultLambdas.Select(l => l.ToString(CultureInfo.InvariantCulture))) };
    private static readonly Option<int> Epochs = new("--epochs") { Description = "BPR epochs.", DefaultValueFactory = _ => new BprOptions().Epochs };
    private static readonly Option<double> LearningRate = new("--lr") { Description = "BPR Adam learning rate.", DefaultValueFactory = _ => new BprOptions().LearningRate };
    private static readonly Option<double> WeightDecay = new("--weight-decay") { Description = "BPR Adam L2 weight decay.", DefaultValueFactory = _ => new BprOptions().WeightDecay };
    private static readonly Option<int> EmbeddingDim = new("--embedding-dim") { Description = "BPR embedding size.", DefaultValueFactory = _ => new BprOptions().EmbeddingDim };
    private static readonly Option<int> BatchSize = new("--batch-size") { Description = "BPR triples per step.", DefaultValueFactory = _ => new BprOptions().BatchSize };
    private static readonly Option<int> Patience = new("--patience") { Description = "BPR: epochs without better validation NDCG@10 before stopping.", DefaultValueFactory = _ => new BprOptions().Patience };
    private static readonly Option<string?> Results = new("--results") { Description = "Append the table to this Markdown file (e.g. bench/RESULTS.md)." };

    public static Command Create()
    {
        var command = new Command("baseline", "Evaluate a reference model (popularity, BPR-MF, EASE) with the same protocol and metrics as train.");
        foreach (Option option in new Option[] { Data, Model, Protocol, SplitSeed, Seeds, Lambdas, Epochs, LearningRate, WeightDecay, EmbeddingDim, BatchSize, Patience, Results })
        {
            command.Options.Add(option);
        }
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        string model = parse.GetValue(Model)!, protocol = parse.GetValue(Protocol)!;
        var errors = new List<string>();
        if (!Baseline.Names.Contains(model))
        {
            errors.Add($"Unknown model '{model}'. Use one of: {string.Join(", ", Baseline.Names)}.");
        }
        // The catalog's one rule for choices: any case in, the wire name out.
        SplitProtocol splitProtocol = SplitProtocol.Temporal;
        if (TrainingOptionCatalog.TryParse(TrainingOptionCatalog.Find("protocol")!, protocol, out object? parsed, out string problem))
        {
            splitProtocol = (SplitProtocol)parsed!;
        }
        else
        {
            errors.Add(problem);
        }
        int[] seeds;
        double[] lambdas;
        try
        {
            seeds = Lists.Ints(parse.GetValue(Seeds)!, "--seeds");
            lambdas = Lists.Doubles(parse.GetValue(Lambdas)!, "--lambdas");
            if (seeds.Length == 0 || lambdas.Length == 0 || lambdas.Any(l => !(l > 0)))
            {
                errors.Add("--seeds needs at least one seed and --lambdas at least one positive lambda.");
            }
        }
        catch (FormatException e)
        {
            errors.Add(e.Message);
            seeds = [];
            lambdas = [];
        }
        if (errors.Count > 0)
        {
            errors.ForEach(Console.Error.WriteLine);
            return 2;
        }
        if (!CliData.TryLoad(parse.GetValue(Data)!, false, out RatingDataset data))
        {
            return 3;
        }
        if (splitProtocol == SplitProtocol.ColdUsers && model != Baseline.Popularity)
        {
            Console.Error.WriteLine($"Under the cold-users protocol only the popularity baseline is evaluated (BPR and EASE would rank the held-out users from an empty history).");
            return 2;
        }
        UserSplit split = EvaluationProtocol.Split(data, splitProtocol, parse.GetValue(SplitSeed));
        var entry = new LeaderboardEntry(model, "", [], [], []);
        // Popularity and EASE are deterministic given the split: one run stands for every seed.
        foreach (int seed in model == Baseline.Bpr ? seeds : seeds.Take(1))
        {
            var bpr = new BprOptions
            {
                Seed = seed,
                Epochs = parse.GetValue(Epochs),
                LearningRate = parse.GetValue(LearningRate),
                WeightDecay = parse.GetValue(WeightDecay),
                EmbeddingDim = parse.GetValue(EmbeddingDim),
                BatchSize = parse.GetValue(BatchSize),
                Patience = parse.GetValue(Patience),
            };
            BaselineResult result = Baseline.Run(model, split, Trainer.Ks, bpr, lambdas);
            entry.Validation.Add(result.Validation);
            entry.Test.Add(result.Test);
            entry.Notes.Add(result.Chosen);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{model} seed {seed}: val NDCG@10 {result.Validation[MetricNames.Ndcg10]:F4}, test NDCG@10 {result.Test[MetricNames.Ndcg10]:F4} Recall@10 {result.Test["Recall@10"]:F4} MRR@10 {result.Test["MRR@10"]:F4} HR@10 {result.Test["HR@10"]:F4} P@10 {result.Test["Precision@10"]:F4} {result.Chosen}"));
        }
        string table = Leaderboard.Markdown($"{data.Name}, {splitProtocol.Wire()} protocol, baseline {model}", "rankservice " + string.Join(' ', parse.Tokens.Select(t => t.Value)),
            $"{DateTime.UtcNow:yyyy-MM-dd}, nproc {Environment.ProcessorCount}.", [entry]);
        Console.WriteLine(table);
        if (parse.GetValue(Results) is { Length: > 0 } file)
        {
            File.AppendAllText(file, Environment.NewLine + table);
        }
        return 0;
    }
}
