using Microsoft.Extensions.Options;
using RankService.Api.Apis;
using RankService.Api.Options;
using RankService.Api.Serving;

namespace RankService.Api.Extensions;

public static class ServingExtensions
{
    /// <summary>The model registry, the readiness check and the ranked items' JSON writer (the start-up load is in <see cref="JobsExtensions.AddTrainingJobs"/>).</summary>
    public static IHostApplicationBuilder AddServing(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddSingleton<AnnIndexing>();
        builder.Services.AddSingleton<ServingStateFile>();
        builder.Services.AddSingleton<ISessionFoldIn, ModelFoldIn>();
        // Nodes that share job storage share serving.json: its changes take a lock in their database.
        builder.Services.AddSingleton<IServingStateLock>(provider =>
            provider.GetRequiredService<IOptions<JobsOptions>>().Value.Storage == JobStorageKind.PostgreSql
                ? new PostgresServingStateLock(provider.GetRequiredService<IOptions<JobsOptions>>())
                : new ProcessServingStateLock());
        builder.Services.AddHealthChecks().AddCheck<ServingReadyCheck>("serving", tags: [HealthApi.ReadyTag]);
        builder.Services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => o.SerializerOptions.Converters.Add(new RankedItemJsonConverter()));
        return builder;
    }
}
