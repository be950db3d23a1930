using System.CommandLine;
using RankService.Ranking.Training;

namespace RankService.Cli;

/// <summary>
/// The training options as command-line options, made from <see cref="TrainingOptionCatalog"/>: <c>--kebab-case</c>
/// of each JSON name (plus the older names each option lists, such as <c>--lr</c>), a <c>--no-</c> form for every
/// switch, and the catalog's help, range and default. Values are read with the catalog's parsing rule, the one the
/// API uses. With <c>lists</c> (the sweep), a comma-separated value is a list of values to sweep.
/// </summary>
internal sealed class TrainingOptionsCli
{
    private sealed record Entry(TrainingOptionDescriptor Option, Option<string> Value, Option<bool>? Negated);

    private readonly List<Entry> _entries = [];
    private readonly HashSet<TrainingOptionDescriptor> _given = [];
    private readonly bool _lists;

    public TrainingOptionsCli(bool lists, Func<TrainingOptionDescriptor, bool>? include = null)
    {
        _lists = lists;
        foreach (TrainingOptionDescriptor option in TrainingOptionCatalog.Options.Where(include ?? (_ => true)))
        {
            string swept = lists && option.Kind != TrainingOptionKind.IntegerList ? " Comma-separated values are swept." : "";
            var value = new Option<string>(option.CliName, [.. option.CliAliases])
            {
                Description = $"{option.Describe()}{swept} Default: {TrainingOptionDescriptor.Format(option.DefaultValue)}.",
                HelpName = option.Kind switch
                {
                    TrainingOptionKind.Text or TrainingOptionKind.Choice when option.Choices is { } choices => string.Join('|', choices),
                    TrainingOptionKind.Boolean => "true|false",
                    _ => null,
                },
            };
            Option<bool>? negated = null;
            if (option.Kind == TrainingOptionKind.Boolean)
            {
                value.Arity = ArgumentArity.ZeroOrOne; // a bare --item-bias means true
                negated = new Option<bool>("--no-" + option.CliName[2..]) { Description = $"The same as {option.CliName} false." };
            }
            _entries.Add(new Entry(option, value, negated));
        }
    }

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (Entry entry in _entries)
        {
            command.Options.Add(entry.Value);
            if (entry.Negated is not null)
            {
                command.Options.Add(entry.Negated);
            }
        }
    }

    /// <summary>
    /// <paramref name="baseline"/> with every option given on the command line; with lists, one configuration per
    /// combination of the values given (a grid). Unreadable values are added to <paramref name="errors"/>.
    /// </summary>
    public List<TrainingOptions> Read(ParseResult parse, TrainingOptions baseline, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(errors);
        List<TrainingOptions> grid = [baseline];
        foreach (Entry entry in _entries)
        {
            var values = new List<object?>();
            if (entry.Negated is not null && parse.GetValue(entry.Negated))
            {
                values.Add(false);
            }
            if (parse.GetResult(entry.Value) is { Implicit: false })
            {
                string text = parse.GetValue(entry.Value) ?? (entry.Option.Kind == TrainingOptionKind.Boolean ? "true" : "");
                string[] texts = _lists && entry.Option.Kind != TrainingOptionKind.IntegerList
                    ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [text];
                foreach (string one in texts)
                {
                    if (TrainingOptionCatalog.TryParse(entry.Option, one, out object? value, out string error))
                    {
                        values.Add(value);
                    }
                    else
                    {
                        errors.Add($"{entry.Option.CliName}: {error}");
                    }
                }
            }
            if (values.Count > 0)
            {
                _given.Add(entry.Option);
                grid = [.. grid.SelectMany(g => values.Select(v => TrainingOptionCatalog.With(g, [new(entry.Option, v)])))];
            }
        }
        return grid;
    }

    /// <summary>
    /// A configuration as <c>rankservice train</c> options: the loss, then every option given on the command line
    /// (<see cref="Read"/>) or differing from the library's defaults; seed, device and threads left out, as they do
    /// not name a configuration.
    /// </summary>
    public string Describe(TrainingOptions options)
    {
        var defaults = new TrainingOptions();
        IEnumerable<string> parts = TrainingOptionCatalog.Options
            .Where(o => o.Name is not (nameof(TrainingOptions.Seed) or nameof(TrainingOptions.Device) or nameof(TrainingOptions.Threads)))
            .Where(o => o.Name == nameof(TrainingOptions.Loss) || _given.Contains(o)
                || TrainingOptionDescriptor.Format(o.GetValue(options)) != TrainingOptionDescriptor.Format(o.GetValue(defaults)))
            .OrderBy(o => o.Name != nameof(TrainingOptions.Loss))
            .Select(o => $"{o.CliName} {TrainingOptionDescriptor.Format(o.GetValue(options))}");
        return string.Join(' ', parts);
    }
}
