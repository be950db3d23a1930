using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace RankService.Ranking.Training;

/// <summary>How an option's value is written: on the command line, in JSON and in the OpenAPI schema.</summary>
public enum TrainingOptionKind
{
    WholeNumber,
    Number,
    Boolean,
    Text,
    IntegerList,

    /// <summary>One of an enum's members, spelled as its <see cref="WireNames"/> (any case in, lower case out).</summary>
    Choice,
}

/// <summary>One training option as <see cref="TrainingOptionAttribute"/> and its property describe it.</summary>
public sealed class TrainingOptionDescriptor
{
    private readonly PropertyInfo _property;

    internal TrainingOptionDescriptor(PropertyInfo property, TrainingOptionAttribute attribute, object defaultValue)
    {
        _property = property;
        Name = property.Name;
        JsonName = JsonNamingPolicy.CamelCase.ConvertName(property.Name);
        CliName = "--" + JsonNamingPolicy.KebabCaseLower.ConvertName(property.Name);
        CliAliases = (attribute.Cli ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Kind = property.PropertyType switch
        {
            Type t when t == typeof(int) => TrainingOptionKind.WholeNumber,
            Type t when t == typeof(double) => TrainingOptionKind.Number,
            Type t when t == typeof(bool) => TrainingOptionKind.Boolean,
            Type t when t == typeof(string) => TrainingOptionKind.Text,
            Type t when t == typeof(IReadOnlyList<int>) => TrainingOptionKind.IntegerList,
            Type t when t.IsEnum => TrainingOptionKind.Choice,
            Type t => throw new InvalidOperationException($"TrainingOptions.{property.Name} has type {t.Name}, which the option catalog does not describe."),
        };
        DefaultValue = defaultValue;
        Min = double.IsNaN(attribute.Min) ? null : attribute.Min;
        Max = double.IsNaN(attribute.Max) ? null : attribute.Max;
        MaxItems = attribute.MaxItems;
        Help = attribute.Help;
        UsedBy = attribute.UsedBy;
        HostOnly = attribute.HostOnly;
        if (attribute.ChoicesFrom is { } type && attribute.ChoicesMember is { } member)
        {
            object? list = type.GetProperty(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                ?? type.GetField(member, BindingFlags.Public | BindingFlags.Static)?.GetValue(null);
            Choices = list switch
            {
                IEnumerable<string> names => [.. names],
                System.Collections.IEnumerable values when Kind == TrainingOptionKind.Choice => [.. values.Cast<Enum>().Select(WireNames.Name)],
                _ => throw new InvalidOperationException($"TrainingOptions.{property.Name}: {type.Name}.{member} is not a public static list of names or members."),
            };
        }
        else if (Kind == TrainingOptionKind.Choice)
        {
            Choices = WireNames.Of(property.PropertyType);
        }
        EnumType = Kind == TrainingOptionKind.Choice ? property.PropertyType : null;
    }

    /// <summary>The property name, e.g. <c>LearningRate</c>.</summary>
    public string Name { get; }

    /// <summary>The field name in JSON (manifests, resume states, <c>POST /jobs</c>), e.g. <c>learningRate</c>.</summary>
    public string JsonName { get; }

    /// <summary>The command-line name, e.g. <c>--learning-rate</c>.</summary>
    public string CliName { get; }

    /// <summary>Older command-line names that still work, e.g. <c>--lr</c>.</summary>
    public IReadOnlyList<string> CliAliases { get; }

    public TrainingOptionKind Kind { get; }

    /// <summary>The property's initialiser.</summary>
    public object DefaultValue { get; }

    public double? Min { get; }
    public double? Max { get; }
    public int MaxItems { get; }

    /// <summary>The allowed values of a choice (or text) option, spelled as on the wire; null = any text.</summary>
    public IReadOnlyList<string>? Choices { get; }

    /// <summary>The enum of a <see cref="TrainingOptionKind.Choice"/> option; null for the other kinds.</summary>
    public Type? EnumType { get; }

    public string Help { get; }
    public string? UsedBy { get; }
    public bool HostOnly { get; }

    public object? GetValue(TrainingOptions options) => _property.GetValue(options);

    internal void SetValue(TrainingOptions options, object? value) => _property.SetValue(options, value);

    /// <summary>A value as the command line spells it (the inverse of <see cref="TrainingOptionCatalog.TryParse"/>).</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        double d => TrainingOptionCatalog.Number(d),
        bool b => b ? "true" : "false",
        Enum e => WireNames.Name(e),
        IEnumerable<int> list => string.Join(',', list.Select(i => i.ToString(CultureInfo.InvariantCulture))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Help text with the range or the allowed values and the default, for the CLI, README and OpenAPI.</summary>
    public string Describe()
    {
        var text = new StringBuilder(Help);
        if (Choices is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $" One of: {string.Join(", ", Choices)}.");
        }
        else if (Min is not null && Max is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $" {(Kind == TrainingOptionKind.IntegerList ? "Each " : "")}{TrainingOptionCatalog.Number(Min.Value)} to {TrainingOptionCatalog.Number(Max.Value)}.");
        }
        if (UsedBy is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $" Used by: {UsedBy}.");
        }
        return text.ToString();
    }

    internal string KindWords => Kind switch
    {
        TrainingOptionKind.WholeNumber => "a whole number",
        TrainingOptionKind.Number => "a number",
        TrainingOptionKind.Boolean => "true or false",
        TrainingOptionKind.Text => "text",
        TrainingOptionKind.Choice => "one of " + string.Join(", ", Choices ?? []),
        _ => "whole numbers (a JSON array, or comma-separated on the command line)",
    };
}

/// <summary>
/// The one description of the training options, read once from <see cref="TrainingOptions"/>'s
/// <see cref="TrainingOptionAttribute"/>s (the per-loss ones sit in their loss's file). Validation, parsing of
/// command-line text and of JSON fields, and the help all come from here, so the CLI, <c>POST /jobs</c> and the
/// sweep accept the same values with the same messages.
/// </summary>
public static class TrainingOptionCatalog
{
    private static readonly MethodInfo Clone = typeof(TrainingOptions).GetMethod("<Clone>$")
        ?? throw new InvalidOperationException("TrainingOptions is expected to be a record.");

    /// <summary>Every option: those of every run in declaration order, then the losses' options.</summary>
    public static IReadOnlyList<TrainingOptionDescriptor> Options { get; } = Describe();

    private static readonly Dictionary<string, TrainingOptionDescriptor> ByJsonName =
        Options.ToDictionary(o => o.JsonName, StringComparer.OrdinalIgnoreCase);

    private static TrainingOptionDescriptor[] Describe()
    {
        var defaults = new TrainingOptions();
        var described = new List<TrainingOptionDescriptor>();
        foreach (PropertyInfo property in typeof(TrainingOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            if (property.SetMethod is null || property.Name == "EqualityContract")
            {
                continue;
            }
            TrainingOptionAttribute attribute = property.GetCustomAttribute<TrainingOptionAttribute>()
                ?? throw new InvalidOperationException($"TrainingOptions.{property.Name} has no [TrainingOption]: describe it once there.");
            described.Add(new TrainingOptionDescriptor(property, attribute, property.GetValue(defaults)!));
        }
        // The run's own options first, then each loss's, in the order of their files.
        return [.. described.OrderBy(o => o.UsedBy is not null)];
    }

    /// <summary>The option with this JSON name (any case), or null.</summary>
    public static TrainingOptionDescriptor? Find(string jsonName) => ByJsonName.GetValueOrDefault(jsonName);

    /// <summary>A number as messages and the command line write it: shortest round-trip form, lower-case exponent.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant();

    private static string Quote(string text) => text.Length <= 64 ? text : $"{text[..64]}... ({text.Length} characters)";

    /// <summary>JSON field name to problem (each naming the allowed range or values); empty when the options are valid.</summary>
    public static IReadOnlyDictionary<string, string> Validate(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (TrainingOptionDescriptor o in Options)
        {
            if (Problem(o, o.GetValue(options)) is { } problem)
            {
                errors[o.JsonName] = problem;
            }
        }
        return errors;
    }

    private static string? Problem(TrainingOptionDescriptor o, object? value)
    {
        string range = o.Min is not null && o.Max is not null ? $"between {Number(o.Min.Value)} and {Number(o.Max.Value)}" : "";
        switch (value)
        {
            case null:
                return $"{o.JsonName} is required.";
            case int i when !InRange(o, i):
                return $"{o.JsonName} must be {range}; got {i.ToString(CultureInfo.InvariantCulture)}.";
            case double d when !InRange(o, d):
                return $"{o.JsonName} must be {range}; got {Number(d)}.";
            case string s when o.Choices is not null && !o.Choices.Contains(s, StringComparer.Ordinal):
                return Unknown(o, s);
            case Enum e when o.Choices is not null && !o.Choices.Contains(WireNames.Name(e), StringComparer.Ordinal):
                return Unknown(o, WireNames.Name(e));
            case IReadOnlyList<int> list when (o.MaxItems > 0 && list.Count > o.MaxItems) || list.Any(v => !InRange(o, v)):
                return $"{o.JsonName} takes at most {o.MaxItems} values, each {range}; got [{TrainingOptionDescriptor.Format(list)}].";
            default:
                return null;
        }
    }

    private static string Unknown(TrainingOptionDescriptor o, string text) =>
        $"Unknown {o.JsonName} '{Quote(text)}'. Use one of: {string.Join(", ", o.Choices ?? [])}.";

    private static bool InRange(TrainingOptionDescriptor o, double value) =>
        !double.IsNaN(value) && (o.Min is null || value >= o.Min) && (o.Max is null || value <= o.Max);

    /// <summary>
    /// Reads an option's value from text, the one rule for the command line and JSON: invariant numbers, true/false,
    /// comma-separated lists, and choices matched to their enum's wire names in any case (see <see cref="WireNames"/>).
    /// A choice no member spells is an error naming the allowed values; a member outside a restricted list (hybrid as
    /// hybridFirst) is left for <see cref="Validate"/> to name.
    /// </summary>
    public static bool TryParse(TrainingOptionDescriptor option, string text, out object? value, out string error)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(text);
        value = null;
        error = "";
        switch (option.Kind)
        {
            case TrainingOptionKind.WholeNumber when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i):
                value = i;
                return true;
            case TrainingOptionKind.Number when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d):
                value = d;
                return true;
            case TrainingOptionKind.Boolean when bool.TryParse(text, out bool b):
                value = b;
                return true;
            case TrainingOptionKind.Text:
                value = option.Choices?.FirstOrDefault(c => string.Equals(c, text, StringComparison.OrdinalIgnoreCase)) ?? text;
                return true;
            case TrainingOptionKind.Choice:
                value = WireNames.Parse(option.EnumType!, text);
                if (value is null)
                {
                    error = Unknown(option, text);
                    return false;
                }
                return true;
            case TrainingOptionKind.IntegerList:
                var list = new List<int>();
                foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int element))
                    {
                        error = $"{option.JsonName} takes {option.KindWords} such as 128,64; '{Quote(part)}' is not one.";
                        return false;
                    }
                    list.Add(element);
                }
                value = list.ToArray();
                return true;
            default:
                error = $"{option.JsonName} takes {option.KindWords}; '{Quote(text)}' is not one.";
                return false;
        }
    }

    /// <summary>A copy of <paramref name="options"/> with the given values set (each of its option's type).</summary>
    public static TrainingOptions With(TrainingOptions options, IEnumerable<KeyValuePair<TrainingOptionDescriptor, object?>> values)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(values);
        var copy = (TrainingOptions)Clone.Invoke(options, null)!;
        foreach ((TrainingOptionDescriptor option, object? value) in values)
        {
            option.SetValue(copy, value);
        }
        return copy;
    }

    /// <summary>
    /// <paramref name="fields"/> (a JSON object's members, named as in JSON, any case) over <paramref name="baseline"/>.
    /// A JSON null is the same as a missing field. A field of the wrong JSON type, or one that is no option, is added
    /// to <paramref name="errors"/> under <paramref name="prefix"/> + its name; <see cref="Validate"/> checks ranges and
    /// choices afterwards. <paramref name="hostOnly"/>: whether host settings such as threads are fields here.
    /// </summary>
    public static TrainingOptions Overlay(TrainingOptions baseline, IEnumerable<KeyValuePair<string, JsonElement>> fields,
        IDictionary<string, string> errors, string prefix = "", bool hostOnly = false, IEnumerable<string>? otherFields = null)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(errors);
        var values = new List<KeyValuePair<TrainingOptionDescriptor, object?>>();
        foreach ((string field, JsonElement element) in fields)
        {
            TrainingOptionDescriptor? option = Find(field);
            if (option is null || (option.HostOnly && !hostOnly))
            {
                IEnumerable<string> known = (otherFields ?? []).Concat(Options.Where(o => hostOnly || !o.HostOnly).Select(o => o.JsonName));
                errors[prefix + field] = $"Unknown field '{Quote(prefix + field)}'. Known fields: {string.Join(", ", known)}.";
                continue;
            }
            if (element.ValueKind == JsonValueKind.Null)
            {
                continue;
            }
            string? text = (option.Kind, element.ValueKind) switch
            {
                (TrainingOptionKind.WholeNumber or TrainingOptionKind.Number, JsonValueKind.Number) => element.GetRawText(),
                (TrainingOptionKind.Boolean, JsonValueKind.True or JsonValueKind.False) => element.GetRawText(),
                (TrainingOptionKind.Text or TrainingOptionKind.Choice, JsonValueKind.String) => element.GetString(),
                (TrainingOptionKind.IntegerList, JsonValueKind.Array) when element.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) =>
                    string.Join(',', element.EnumerateArray().Select(e => e.GetRawText())),
                _ => null,
            };
            if (text is null)
            {
                errors[prefix + option.JsonName] = $"{prefix}{option.JsonName} takes {option.KindWords}; got a JSON {element.ValueKind.ToString().ToLowerInvariant()}.";
            }
            else if (!TryParse(option, text, out object? value, out string error))
            {
                errors[prefix + option.JsonName] = prefix + error;
            }
            else
            {
                values.Add(new(option, value));
            }
        }
        return With(baseline, values);
    }

    /// <summary>
    /// <paramref name="fields"/> (option name, any case, to its text, as configuration holds it) over
    /// <paramref name="baseline"/>, read by <see cref="TryParse"/>: the same rule as the command line and JSON, so
    /// <c>"ndcg-loss2++"</c> means the same everywhere. An unreadable value or a name that is no option is added to
    /// <paramref name="errors"/> under <paramref name="prefix"/> + its JSON name.
    /// </summary>
    public static TrainingOptions OverlayText(TrainingOptions baseline, IEnumerable<KeyValuePair<string, string>> fields,
        IDictionary<string, string> errors, string prefix = "", bool hostOnly = true)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(errors);
        var values = new List<KeyValuePair<TrainingOptionDescriptor, object?>>();
        foreach ((string field, string text) in fields)
        {
            TrainingOptionDescriptor? option = Find(field);
            if (option is null || (option.HostOnly && !hostOnly))
            {
                IEnumerable<string> known = Options.Where(o => hostOnly || !o.HostOnly).Select(o => o.Name);
                errors[prefix + field] = $"Unknown setting '{Quote(prefix + field)}'. Known settings: {string.Join(", ", known)}.";
            }
            else if (!TryParse(option, text, out object? value, out string error))
            {
                errors[prefix + option.JsonName] = error;
            }
            else
            {
                values.Add(new(option, value));
            }
        }
        return With(baseline, values);
    }

    /// <summary>The options as a <c>POST /jobs</c> body's fields (JSON name to value), host settings left out.</summary>
    public static Dictionary<string, object?> ToFields(TrainingOptions options) =>
        Options.Where(o => !o.HostOnly).ToDictionary(o => o.JsonName, o => o.GetValue(options), StringComparer.Ordinal);
}
