using System.Globalization;
using System.Text.Json;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>
/// <c>search</c> of <c>POST /jobs</c>: a hyperparameter search run as one child job per trial.
/// </summary>
public sealed record SearchRequest
{
    /// <summary>How many configurations to train (1-100), each a distinct point of the grid <see cref="Space"/> spans.</summary>
    /// <example>4</example>
    public int? Trials { get; init; }

    /// <summary>Training option (JSON name) to the values to try, e.g. <c>{"learningRate": [0.001, 0.01], "weightDecay": [0, 0.0001]}</c>.</summary>
    public Dictionary<string, JsonElement>? Space { get; init; }

    /// <summary>Seed of the random draw of trials from the grid (default 0); the same seed draws the same trials.</summary>
    public int? Seed { get; init; }
}

/// <summary>A search as its parent job records it: the trials asked for, the space and the draw's seed.</summary>
public sealed record SearchSpec(int Trials, IReadOnlyDictionary<string, IReadOnlyList<JsonElement>> Space, int Seed);

/// <summary>One trial of a search: its values of the space, and the options they give over the request's.</summary>
public sealed record SearchTrial(IReadOnlyDictionary<string, JsonElement> Values, TrainingOptions Options);

/// <summary>One row of a search's leaderboard (GET /jobs/{id}/metrics of the parent).</summary>
/// <param name="Rank">1 for the best validation NDCG@10 among the succeeded trials; null for a trial that did not succeed.</param>
/// <param name="JobId">The trial's job.</param>
/// <param name="Values">The trial's values of the search space.</param>
/// <param name="ValidationNdcg10">Best validation NDCG@10 of the trial; null before its first epoch.</param>
/// <param name="TestNdcg10">Test NDCG@10 of its best checkpoint, once done.</param>
/// <param name="Best">True for the trial the search picked.</param>
public sealed record LeaderboardEntry(
    int? Rank,
    string JobId,
    JobState State,
    IReadOnlyDictionary<string, JsonElement> Values,
    double? ValidationNdcg10,
    double? TestNdcg10,
    int BestEpoch,
    bool Best);

/// <summary>
/// Plans a search: validates its space against the training option catalog (every name an option, every value one it
/// accepts, no value twice) and draws its trials, a seeded random sample of the grid without repeats, so no
/// configuration is trained twice. Random search rather than grid order: with few trials it covers each dimension's
/// values better than the first rows of a grid (Bergstra and Bengio 2012).
/// </summary>
public static class SearchPlanner
{
    public const int MaxTrials = 100;
    public const int MaxValuesPerOption = 50;

    /// <summary>The trials of <paramref name="search"/> over <paramref name="baseline"/>; problems go to <paramref name="errors"/> under <c>search.</c>.</summary>
    public static IReadOnlyList<SearchTrial> Plan(SearchRequest search, TrainingOptions baseline, IReadOnlyCollection<string> fieldsGiven,
        IDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(errors);
        int before = errors.Count;
        if (search.Trials is not { } trials)
        {
            errors["search.trials"] = [$"search.trials is required: how many configurations to train, 1 to {MaxTrials}."];
            trials = 0;
        }
        else if (trials is < 1 or > MaxTrials)
        {
            errors["search.trials"] = [$"search.trials must be between 1 and {MaxTrials}; got {trials}."];
        }
        var dimensions = new List<(string Name, List<JsonElement> Values)>();
        if (search.Space is not { Count: > 0 } space)
        {
            errors["search.space"] = ["search.space is required: a JSON object from training option names to arrays of values, e.g. {\"learningRate\": [0.001, 0.01]}."];
            return [];
        }
        foreach ((string name, JsonElement values) in space)
        {
            string field = $"search.space.{Apis.Echo.Of(name)}";
            TrainingOptionDescriptor? option = TrainingOptionCatalog.Find(name);
            if (option is null || option.HostOnly)
            {
                errors[field] = [$"'{Apis.Echo.Of(name)}' is not a training option. Known options: {string.Join(", ", TrainingOptionCatalog.Options.Where(o => !o.HostOnly).Select(o => o.JsonName))}."];
                continue;
            }
            field = $"search.space.{option.JsonName}";
            if (fieldsGiven.Contains(option.JsonName, StringComparer.OrdinalIgnoreCase))
            {
                errors[field] = [$"{option.JsonName} is also given as a field of the request; give it in the search space or as a field, not both."];
                continue;
            }
            if (dimensions.Any(d => d.Name == option.JsonName))
            {
                errors[field] = [$"{option.JsonName} appears twice in the search space."];
                continue;
            }
            if (values.ValueKind != JsonValueKind.Array || values.GetArrayLength() is 0 or > MaxValuesPerOption)
            {
                errors[field] = [$"{field} takes a JSON array of 1 to {MaxValuesPerOption} values of {option.JsonName}."];
                continue;
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var kept = new List<JsonElement>();
            int index = 0;
            foreach (JsonElement value in values.EnumerateArray())
            {
                string at = $"{field}[{index++}]";
                var valueErrors = new Dictionary<string, string>(StringComparer.Ordinal);
                TrainingOptions one = TrainingOptionCatalog.Overlay(baseline, [KeyValuePair.Create(option.JsonName, value)], valueErrors);
                string? problem = valueErrors.Values.FirstOrDefault() ?? one.Validate().GetValueOrDefault(option.JsonName);
                if (value.ValueKind == JsonValueKind.Null)
                {
                    problem = $"{option.JsonName} takes {(option.Choices is null ? "a value" : "one of " + string.Join(", ", option.Choices))}; null is not one.";
                }
                if (problem is not null)
                {
                    errors[at] = [problem];
                    continue;
                }
                string text = TrainingOptionDescriptor.Format(option.GetValue(one));
                if (!seen.Add(text))
                {
                    errors[at] = [$"{option.JsonName} {text} is listed twice; each value is tried once."];
                    continue;
                }
                kept.Add(value.Clone());
            }
            dimensions.Add((option.JsonName, kept));
        }
        if (errors.Count > before)
        {
            return [];
        }
        // The grid's size, saturating: only whether it holds at least `trials` points matters beyond MaxTrials.
        long grid = 1;
        foreach ((_, List<JsonElement> values) in dimensions)
        {
            grid = grid > long.MaxValue / MaxValuesPerOption ? grid : grid * values.Count;
        }
        if (trials > grid)
        {
            errors["search.trials"] = [$"The search space holds {grid} configuration{(grid == 1 ? "" : "s")}; search.trials must be at most that (nothing is trained twice); got {trials}."];
            return [];
        }

        var random = new Random(search.Seed ?? 0);
        var drawn = new HashSet<long>();
        var plan = new List<SearchTrial>(trials);
        while (plan.Count < trials)
        {
            long point = random.NextInt64(grid);
            if (!drawn.Add(point))
            {
                continue;
            }
            var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            long rest = point;
            foreach ((string name, List<JsonElement> list) in dimensions)
            {
                values[name] = list[(int)(rest % list.Count)];
                rest /= list.Count;
            }
            var overlayErrors = new Dictionary<string, string>(StringComparer.Ordinal);
            TrainingOptions options = TrainingOptionCatalog.Overlay(baseline, values, overlayErrors);
            if (overlayErrors.Count > 0 || options.Validate().Count > 0)
            {
                errors["search.space"] = [$"Trial {plan.Count + 1} ({Describe(values)}) is not a valid configuration: {string.Join(" ", overlayErrors.Values.Concat(options.Validate().Values))}"];
                return [];
            }
            plan.Add(new SearchTrial(values, options));
        }
        return plan;
    }

    /// <summary>The values as <c>name value, name value</c>.</summary>
    public static string Describe(IReadOnlyDictionary<string, JsonElement> values) =>
        string.Join(", ", values.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {p.Value.GetRawText()}")));
}

/// <summary>
/// Follows a search's trials: the parent starts when its first trial starts and, once every trial has finished,
/// concludes with the best succeeded trial on validation NDCG@10 (failing when none succeeded). Each trial calls
/// <see cref="TrialFinished"/> after its own record says finished, so the last to finish sees them all finished.
/// </summary>
public sealed class SearchCoordinator(JobStore store, JobLifecycle lifecycle, ILogger<SearchCoordinator> logger)
{
    public void TrialStarted(string parentId) => store.Update(parentId, lifecycle.Start);

    public void TrialFinished(string parentId)
    {
        if (store.Find(parentId) is not { Trials: { } ids } parent || parent.State.IsFinished())
        {
            return;
        }
        var trials = ids.Select(store.Find).ToList();
        if (trials.Any(t => t is null || !t.State.IsFinished()))
        {
            return;
        }
        // Ties go to the earlier trial: the order is the seeded draw's, so the pick is reproducible.
        JobRecord? best = trials.Select((t, i) => (Trial: t!, Index: i))
            .Where(t => t.Trial.State == JobState.Succeeded && double.IsFinite(t.Trial.SelectionScore))
            .OrderByDescending(t => t.Trial.SelectionScore).ThenBy(t => t.Index)
            .Select(t => t.Trial).FirstOrDefault();
        JobRecord? after = best is not null
            ? store.Update(parentId, r => lifecycle.Conclude(r, best))
            : store.Update(parentId, r => lifecycle.Fail(r, $"none of the {ids.Count} trials succeeded (GET /jobs/{{trial id}} says why)"));
        logger.LogInformation("Search {JobId} {State}: best trial {BestTrial}, validation NDCG@10 {Ndcg:F4}",
            parentId, after?.State.ToString().ToLowerInvariant(), best?.Id, best?.SelectionScore ?? double.NaN);
    }

    /// <summary>The parent's trials, best validation NDCG@10 first, then those that did not succeed in draw order.</summary>
    public IReadOnlyList<LeaderboardEntry> Leaderboard(JobRecord parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        var rows = (parent.Trials ?? []).Select(store.Find).OfType<JobRecord>().ToList();
        var ranked = rows.Where(t => t.State == JobState.Succeeded && double.IsFinite(t.SelectionScore))
            .OrderByDescending(t => t.SelectionScore).ToList();
        return ranked.Select((t, i) => Entry(t, i + 1, parent))
            .Concat(rows.Except(ranked).Select(t => Entry(t, null, parent)))
            .ToList();
    }

    private static LeaderboardEntry Entry(JobRecord t, int? rank, JobRecord parent) => new(
        rank, t.Id, t.State, t.TrialValues ?? new Dictionary<string, JsonElement>(),
        double.IsFinite(t.SelectionScore) ? t.SelectionScore : null,
        t.Test is not null && t.Test.TryGetValue(Trainer.SelectionMetric, out double test) ? test : null,
        t.BestEpoch, t.Id == parent.BestTrial);
}
