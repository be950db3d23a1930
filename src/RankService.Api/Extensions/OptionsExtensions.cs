using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Training;

namespace RankService.Api.Extensions;

public static class OptionsExtensions
{
    /// <summary>Binds the Data, Training, Jobs, Service, Serving and Artifacts sections and validates them at start-up.</summary>
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
        // Read through the option catalog's text rule (see TrainingDefaultsFactory), not bound, and reloaded with the section.
        services.AddOptions<TrainingOptions>().ValidateOnStart();
        services.AddTransient<IOptionsFactory<TrainingOptions>, TrainingDefaultsFactory>();
        services.AddSingleton<IOptionsChangeTokenSource<TrainingOptions>>(new ConfigurationChangeTokenSource<TrainingOptions>(config.GetSection(TrainingDefaultsOptions.Section)));
        services.AddSingleton<IValidateOptions<TrainingOptions>, TrainingDefaultsValidator>();
        services.AddOptions<JobsOptions>().Bind(config.GetSection(JobsOptions.Section))
            .PostConfigure(o => o.ConnectionString = config.GetConnectionString("Hangfire"))
            .ValidateDataAnnotations()
            .Validate(o => o.Storage != JobStorageKind.PostgreSql || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Jobs:Storage PostgreSql needs ConnectionStrings:Hangfire (env ConnectionStrings__Hangfire), e.g. Host=127.0.0.1;Database=rankservice;Username=rankservice;Password=...")
            .ValidateOnStart();
        services.AddOptions<ServiceOptions>().Bind(config.GetSection(ServiceOptions.Section))
            .Validate<IOptions<JobsOptions>>((o, jobs) => o.Role == ServiceRole.All || jobs.Value.Storage == JobStorageKind.PostgreSql,
                "Service:Role Api or Worker needs Jobs:Storage PostgreSql: api and worker processes share the job queue through it.")
            .ValidateOnStart();
        services.AddOptions<ServingOptions>().Bind(config.GetSection(ServingOptions.Section)).ValidateDataAnnotations()
            .Validate(o => AnnSettingsValid(o.Ann),
                "Serving:Ann holds a value out of range: Connectivity must be 0 (automatic) or at least 2; ExpansionAdd, LargeCatalogueItems and BuildThreads not negative; ExpansionSearch, MinCandidates and MaxExpansionSearch at least 1; MaxCandidates at least MinCandidates; TargetRecall between 0 and 1.")
            .ValidateOnStart();
        services.AddOptions<ArtifactsOptions>().Bind(config.GetSection(ArtifactsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        return builder;
    }

    private static bool AnnSettingsValid(Ranking.Index.ItemIndexSettings ann)
    {
        try
        {
            ann.Validate();
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool IsPlainName(string name) =>
        name.Length > 0 && name is not "." and not ".." && name.IndexOfAny(['/', '\\']) < 0
        && name.IndexOfAny(Path.GetInvalidFileNameChars()) < 0 && !name.Any(char.IsControl);
}
