using Microsoft.Extensions.Options;
using RankService.Api.Jobs;
using RankService.Api.Options;

namespace RankService.Api.Serving;

/// <summary>
/// At start: marks jobs an earlier process left queued or running as failed ("interrupted") before Hangfire starts,
/// then loads the serving models in the background; <c>/health/ready</c> turns healthy when that is done.
/// </summary>
/// <remarks>
/// With shared storage (PostgreSql) nothing is marked: Hangfire hands a dead worker's job to the next worker, which
/// continues it. A worker node loads no serving models.
/// </remarks>
public sealed class StartupService(
    JobStore store, ModelRegistry models, IOptions<ServingOptions> serving, IOptions<ServiceOptions> service, ILogger<StartupService> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (store.Shared)
        {
            logger.LogInformation("Artifacts at {Root}: {Jobs} jobs; jobs left running are run again by Hangfire (shared storage, role {Role})",
                store.Root, store.List().Count, service.Value.Role);
        }
        else
        {
            int interrupted = store.FailInterrupted();
            logger.LogInformation("Artifacts at {Root}: {Jobs} jobs, {Interrupted} marked interrupted", store.Root, store.List().Count, interrupted);
        }
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        if (serving.Value.LoadOnStart && service.Value.ServesHttpApi)
        {
            models.LoadOnStart();
        }
        else
        {
            models.MarkLoaded();
        }
    }, stoppingToken);
}
