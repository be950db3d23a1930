using Microsoft.Extensions.Options;
using RankService.Ranking.Training;

namespace RankService.Api.Options;

/// <summary>
/// Training defaults for <c>POST /jobs</c> (section <c>Training</c>): the library's <see cref="TrainingOptions"/>
/// read from configuration, so every field a request leaves out comes from here.
/// </summary>
public static class TrainingDefaultsOptions
{
    public const string Section = "Training";

    /// <summary>
    /// The section read with the option catalog's text rule (<see cref="TrainingOptionCatalog.OverlayText"/>), not the
    /// configuration binder, which would not map <c>"ndcg-loss2++"</c> or <c>"concat-mlp"</c> to their enum members.
    /// A list is given as <c>HiddenSizes:0</c>, <c>HiddenSizes:1</c>, ... or as one comma-separated value.
    /// </summary>
    public static TrainingOptions Read(IConfigurationSection section, IDictionary<string, string> errors)
    {
        ArgumentNullException.ThrowIfNull(section);
        var fields = new List<KeyValuePair<string, string>>();
        foreach (IConfigurationSection child in section.GetChildren())
        {
            List<IConfigurationSection> elements = [.. child.GetChildren()];
            string? text = elements.Count == 0
                ? child.Value
                : string.Join(',', elements.OrderBy(e => int.TryParse(e.Key, out int i) ? i : int.MaxValue).Select(e => e.Value));
            if (text is not null)
            {
                fields.Add(new(child.Key, text));
            }
        }
        return TrainingOptionCatalog.OverlayText(new TrainingOptions(), fields, errors, prefix: Section + ":");
    }
}

/// <summary>
/// Makes the <see cref="TrainingOptions"/> instance from section <c>Training</c> (<see cref="TrainingDefaultsOptions.Read"/>);
/// a value the catalog cannot read fails like a validation error, naming the setting, so the host stops at start.
/// </summary>
public sealed class TrainingDefaultsFactory(
    IConfiguration configuration,
    IEnumerable<IConfigureOptions<TrainingOptions>> setups,
    IEnumerable<IPostConfigureOptions<TrainingOptions>> postConfigures,
    IEnumerable<IValidateOptions<TrainingOptions>> validations)
    : OptionsFactory<TrainingOptions>(setups, postConfigures, validations)
{
    protected override TrainingOptions CreateInstance(string name)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        TrainingOptions options = TrainingDefaultsOptions.Read(configuration.GetSection(TrainingDefaultsOptions.Section), errors);
        return errors.Count == 0
            ? options
            : throw new OptionsValidationException(name, typeof(TrainingOptions), [.. errors.Select(e => $"{e.Key}: {e.Value}")]);
    }
}

/// <summary>Checks the configured training defaults with the library's own rules at start-up.</summary>
public sealed class TrainingDefaultsValidator : IValidateOptions<TrainingOptions>
{
    public ValidateOptionsResult Validate(string? name, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyDictionary<string, string> errors = options.Validate();
        return errors.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors.Select(e => $"{TrainingDefaultsOptions.Section}:{e.Key}: {e.Value}"));
    }
}
