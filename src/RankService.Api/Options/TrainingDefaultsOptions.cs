using Microsoft.Extensions.Options;
using RankService.Ranking.Training;

namespace RankService.Api.Options;

/// <summary>
/// Training defaults for <c>POST /jobs</c> (section <c>Training</c>): the library's <see cref="TrainingOptions"/>
/// bound from configuration, so every field a request leaves out comes from here.
/// </summary>
public static class TrainingDefaultsOptions
{
    public const string Section = "Training";
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
