using System.CommandLine;
using RankService.Ranking.Baselines;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary>
/// <c>sweep</c>: trains every configuration of a grid (or a random sample of it) once per seed and writes a leaderboard
/// of mean ± std test metrics sorted by validation NDCG@10. This type reads and checks the command line and builds the
/// grid (<see cref="TrainingOptionsCli"/>: any training option given as a comma list is an axis); <see cref="LocalSweep"/>
/// trains it in this process, <see cref="ServiceSweep"/> as one search job of a running service.
/// </summary>
internal static class SweepCommand
{
    private static readonly Option<string> Data = new("--data") { Description = "MovieLens folder, or 'synthetic'; with --service, a data set name the service knows (ml-100k, synthetic, ...).", Required = true };
    private static readonly Option<string> Service = new("--service") { Description = "Base URL of a running RankService (http://localhost:5000): run the grid x seeds there as one search job (POST /jobs with search; --random trials drawn with --sample-seed) and print its leaderboard, instead of training in this process." };
    private static readonly Option<string> ApiKey = new("--api-key") { Description = "API key sent as X-Api-Key with --service (default: the RANKSERVICE_API_KEY environment variable)." };
    private static readonly Option<double> PollSeconds = new("--poll-seconds") { Description = "With --service: seconds between job status checks.", DefaultValueFactory = _ => 2 };
    private static readonly Option<string> Seeds = new("--seeds") { Description = "Comma-separated seeds; each configuration runs once per seed.", DefaultValueFactory = _ => "1,2,3" };
    private static readonly Option<string> Ensemble = new("--ensemble") { Description = "none, or ease: also report each trained model blended with EASE (per-user standardised scores, the weight chosen on validation NDCG@10).", DefaultValueFactory = _ => "none" };
    private static readonly Option<int> Random = new("--random") { Description = "Run this many configurations drawn from the grid (seeded by --sample-seed); 0 = the whole grid. With --service: the search's trials, drawn from configurations x seeds.", DefaultValueFactory = _ => 0 };
    private static readonly Option<int> SampleSeed = new("--sample-seed") { Description = "Seed of the --random draw (with --service, the search's seed).", DefaultValueFactory = _ => 0 };
    private static readonly Option<string> Baselines = new("--baselines") { Description = "Comma-separated baselines to add to the table: popularity, bpr, ease (BPR once per seed).", DefaultValueFactory = _ => "" };
    private static readonly Option<string> Out = new("--out") { Description = "Folder for the runs' checkpoints.", DefaultValueFactory = _ => "runs" };
    private static readonly Option<string?> Results = new("--results") { Description = "Append the leaderboard to this Markdown file (e.g. bench/RESULTS.md)." };

    public static Command Create()
    {
        var command = new Command("sweep", "Train a grid (or random sample) of configurations, each over several seeds, and write a leaderboard.");
        foreach (Option option in new Option[] { Data, Seeds, Random, SampleSeed, Baselines, Ensemble, Service, ApiKey, PollSeconds, Out, Results })
        {
            command.Options.Add(option);
        }
        // Every training option but the seed (--seeds); a comma-separated value is swept.
        var training = new TrainingOptionsCli(lists: true, o => o.Name != nameof(TrainingOptions.Seed));
        training.AddTo(command);
        command.SetAction(parse => Run(parse, training));
        return command;
    }

    private static int Run(ParseResult parse, TrainingOptionsCli training)
    {
        int[] seeds;
        string[] baselines;
        try
        {
            seeds = Lists.Ints(parse.GetValue(Seeds)!, "--seeds");
            baselines = Lists.Strings(parse.GetValue(Baselines)!);
        }
        catch (FormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        var errors = new List<string>();
        List<TrainingOptions> grid = training.Read(parse, new TrainingOptions(), errors);
        errors.AddRange(grid.SelectMany(o => o.Validate().Values).Distinct());
        if (grid.Select(o => (o.Protocol, o.SplitSeed)).Distinct().Count() > 1)
        {
            errors.Add("--protocol and --split-seed take one value in a sweep: every configuration is evaluated on one split.");
        }
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

        // The command line goes into the results file: an API key given on it is written as "***".
        string[] tokens = parse.Tokens.Select(t => t.Value).ToArray();
        string commandLine = "rankservice " + string.Join(' ', tokens.Select((t, i) => i > 0 && tokens[i - 1] == ApiKey.Name ? "***" : t));
        if (serviceUri is not null)
        {
            using HttpClient http = new() { BaseAddress = ServiceSweep.BaseAddress(serviceUri), Timeout = TimeSpan.FromMinutes(2) };
            var client = new Client.RankServiceClient(http, parse.GetValue(ApiKey) ?? Environment.GetEnvironmentVariable("RANKSERVICE_API_KEY"));
            string dataset = parse.GetValue(Data)!;
            Console.WriteLine($"{dataset} on {serviceUri}: {grid.Count} configurations x {seeds.Length} seeds as one search job");
            int exit;
            try
            {
                exit = ServiceSweep.Run(client, dataset, grid, seeds, parse.GetValue(Random), parse.GetValue(SampleSeed), TimeSpan.FromSeconds(parse.GetValue(PollSeconds)), table =>
                {
                    string markdown = $"### {dataset}, {grid[0].Protocol.Wire()} protocol, sweep run as a search job on {serviceUri}: `{commandLine}`"
                        + $"{Environment.NewLine}{Environment.NewLine}{DateTime.UtcNow:yyyy-MM-dd}; {grid.Count} configurations x seeds {string.Join(",", seeds)}.{Environment.NewLine}{Environment.NewLine}{table}";
                    if (parse.GetValue(Results) is { Length: > 0 } file)
                    {
                        File.AppendAllText(file, Environment.NewLine + markdown);
                    }
                    return markdown;
                }, Console.Out, Console.Error);
            }
            catch (HttpRequestException e)
            {
                Console.Error.WriteLine($"The service at {serviceUri} could not be reached: {e.Message}");
                return 3;
            }
            catch (Client.RankServiceException e)
            {
                Console.Error.WriteLine($"The service at {serviceUri} answered an error: {ServiceSweep.Describe(e)}");
                return 3;
            }
            return exit;
        }

        grid = Sample(grid, parse.GetValue(Random), parse.GetValue(SampleSeed));
        return LocalSweep.Run(parse.GetValue(Data)!, grid, training.Describe, seeds, baselines, ensemble == Baseline.Ease,
            parse.GetValue(Out)!, commandLine, parse.GetValue(Results));
    }

    /// <summary><paramref name="count"/> configurations drawn from the grid (seeded), or the whole grid for 0 or more than it holds.</summary>
    internal static List<TrainingOptions> Sample(List<TrainingOptions> grid, int count, int seed)
    {
        if (count <= 0 || count >= grid.Count)
        {
            return grid;
        }
        var rng = new Random(seed);
        return [.. grid.OrderBy(_ => rng.Next()).Take(count)];
    }
}
