using RankService.Api.Apis;
using RankService.Api.Serving;

namespace RankService.Api.Extensions;

public static class ServingExtensions
{
    /// <summary>The model registry and the readiness check (the start-up load is in <see cref="JobsExtensions.AddTrainingJobs"/>).</summary>
    public static IHostApplicationBuilder AddServing(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddHealthChecks().AddCheck<ServingReadyCheck>("serving", tags: [HealthApi.ReadyTag]);
        return builder;
    }
}
