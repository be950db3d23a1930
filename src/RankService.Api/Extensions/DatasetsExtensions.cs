using Microsoft.Extensions.Options;
using RankService.Api.Datasets;
using RankService.Api.Options;

namespace RankService.Api.Extensions;

public static class DatasetsExtensions
{
    /// <summary>
    /// The live data set store: PostgreSQL (its own schema on the Hangfire connection) when Jobs:Storage is PostgreSql,
    /// so api and worker nodes see the same data; else the SQLite file Data:LiveDatabase under Data:Root.
    /// </summary>
    public static IHostApplicationBuilder AddLiveDatasets(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ILiveDatasetStore>(provider =>
        {
            JobsOptions jobs = provider.GetRequiredService<IOptions<JobsOptions>>().Value;
            DataOptions data = provider.GetRequiredService<IOptions<DataOptions>>().Value;
            return jobs.Storage == JobStorageKind.PostgreSql
                ? new PostgresLiveDatasetStore(jobs.ConnectionString!, data.LiveSchema, provider.GetRequiredService<TimeProvider>())
                : new SqliteLiveDatasetStore(Path.Combine(data.FullRoot, data.LiveDatabase), provider.GetRequiredService<TimeProvider>());
        });
        builder.Services.AddSingleton<ErasedUsersFilter>();
        builder.Services.AddSingleton<Serving.RecentPopularity>();
        return builder;
    }
}
