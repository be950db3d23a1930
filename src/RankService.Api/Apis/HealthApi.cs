using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RankService.Api.Serving;

namespace RankService.Api.Apis;

/// <summary><c>/health/live</c> (the process answers) and <c>/health/ready</c> (serving models loaded, or none exist yet).</summary>
public static class HealthApi
{
    public const string ReadyTag = "ready";

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false })
            .WithTags("Health").WithName("Live").WithSummary("Liveness").WithDescription("200 while the process answers.");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) })
            .WithTags("Health").WithName("Ready").WithSummary("Readiness").WithDescription("200 once the serving models are loaded from the artifacts folder (or none exist yet); 503 before.");
        return app;
    }
}

/// <summary>Healthy once the start-up load of serving models has finished.</summary>
public sealed class ServingReadyCheck(ModelRegistry registry) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(registry.IsLoaded
            ? HealthCheckResult.Healthy($"Serving: {string.Join(", ", registry.ServingJobs().Select(p => $"{p.Key}={p.Value}"))}")
            : HealthCheckResult.Unhealthy("Loading serving models."));
}
