using Microsoft.Extensions.Options;
using RankService.Api.Jobs;
using RankService.Api.Options;

namespace RankService.Api.Serving;

/// <summary>
/// At start: marks jobs an earlier process left queued or running as failed ("interrupted") before Hangfire starts,
/// then loads the serving models in the background; <c>/health/ready</c> turns healthy when that is done.
/// </summary>
public sealed class StartupService(JobStore store, ModelRegistry models, IOptions<ServingOptions> serving, ILogger<StartupService> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        int interrupted = store.FailInterrupted();
        logger.LogInformation("Artifacts at {Root}: {Jobs} jobs, {Interrupted} marked interrupted", store.Root, store.List().Count, interrupted);
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        if (serving.Value.LoadOnStart)
        {
            models.LoadOnStart();
        }
        else
        {
            models.MarkLoaded();
        }
    }, stoppingToken);
}
