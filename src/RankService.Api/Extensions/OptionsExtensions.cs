using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Training;

namespace RankService.Api.Extensions;

public static class OptionsExtensions
{
    /// <summary>Binds the Data, Training, Jobs, Serving and Artifacts sections and validates them at start-up.</summary>
    public static IHostApplicationBuilder AddRankServiceOptions(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        IConfiguration config = builder.Configuration;

        services.AddOptions<DataOptions>().Bind(config.GetSection(DataOptions.Section))
            .PostConfigure(o => o.Datasets = o.Datasets.Count > 0 ? o.Datasets : [.. DataOptions.DefaultDatasets])
            .ValidateDataAnnotations()
            .Validate(o => o.IsKnown(o.DefaultDataset), "Data:DefaultDataset must be one of Data:Datasets.")
            .Validate(o => o.Datasets.All(IsPlainName), "Data:Datasets holds folder names only (no path separators, not '.' or '..').")
            .Validate(o => o.SyntheticSet.Users >= 2 && o.SyntheticSet.Items >= 10
                && o.SyntheticSet.MinRatingsPerUser >= 3 && o.SyntheticSet.MinRatingsPerUser <= o.SyntheticSet.MaxRatingsPerUser
                && o.SyntheticSet.MaxRatingsPerUser <= o.SyntheticSet.Items,
                "Data:SyntheticSet needs Users >= 2, Items >= 10 and 3 <= MinRatingsPerUser <= MaxRatingsPerUser <= Items.")
            .ValidateOnStart();
        services.AddOptions<TrainingOptions>().Bind(config.GetSection(TrainingDefaultsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TrainingOptions>, TrainingDefaultsValidator>();
        services.AddOptions<JobsOptions>().Bind(config.GetSection(JobsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ServingOptions>().Bind(config.GetSection(ServingOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ArtifactsOptions>().Bind(config.GetSection(ArtifactsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && name is not "." and not ".." && name.IndexOfAny(['/', '\\']) < 0
        && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && !name.Any(char.IsControl);
}
