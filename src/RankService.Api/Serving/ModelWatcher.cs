using Microsoft.Extensions.Options;
using RankService.Api.Jobs;
using RankService.Api.Options;

namespace RankService.Api.Serving;

/// <summary>
/// On an api (or all-in-one) node with shared job storage, polls the job records every Serving:PollInterval and offers
/// each job that finished since this process started to the <see cref="ModelRegistry"/>, which loads and verifies its
/// checkpoint and swaps it in atomically when it beats the serving model. So a model a worker node trained is served
/// without a restart; a corrupt checkpoint is refused (logged) and the previous model keeps serving.
/// </summary>
public sealed class ModelWatcher(
    JobStore store,
    ModelRegistry models,
    IOptions<ServingOptions> serving,
    IOptions<ServiceOptions> service,
    TimeProvider clock,
    ILogger<ModelWatcher> logger) : BackgroundService
{
    private readonly HashSet<string> _offered = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan interval = serving.Value.PollInterval;
        if (!store.Shared || !service.Value.ServesHttpApi || interval <= TimeSpan.Zero)
        {
            return;
        }
        // Jobs finished before this process started are the start-up load's business (it honours hand activation).
        DateTimeOffset started = clock.GetUtcNow();
        using var timer = new PeriodicTimer(interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            if (!models.IsLoaded)
            {
                continue;
            }
            try
            {
                await Task.Run(() => OfferNewlyFinished(started), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "Cannot read the job records under {Root}; trying again in {Interval}", store.Root, interval);
            }
        }
    }

    private void OfferNewlyFinished(DateTimeOffset started)
    {
        foreach (JobRecord record in store.List())
        {
            if (record.State == JobState.Succeeded && record.FinishedAt >= started && _offered.Add(record.Id))
            {
                logger.LogInformation("Job {JobId} finished on another node; offering its model for {Dataset}", record.Id, record.Dataset);
                models.OfferFinished(record);
            }
        }
    }
}
