using System.Data.Common;
using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Api.Serving;
using RankService.Ranking.Checkpoints;

namespace RankService.Api.Datasets;

/// <summary>
/// Applied to every model the <see cref="ModelRegistry"/> loads (at start, on activation, when a job finishes): a
/// model of a live data set forgets the users its data set no longer has, so a user erased through
/// <c>DELETE /datasets/{name}/users/{id}</c> stays unknown to serving after a restart or when an older model is served.
/// </summary>
public sealed class ErasedUsersFilter(ILiveDatasetStore store, IOptions<DataOptions> data, ILogger<ErasedUsersFilter> logger)
{
    public void Apply(ServingModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (data.Value.IsKnown(model.Dataset))
        {
            return;
        }
        IReadOnlySet<string>? current;
        try
        {
            current = store.UserIdsAsync(model.Dataset, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (DbException e)
        {
            // Without the user list an erased user could be served again: the model is not served (the registry logs why).
            throw new CheckpointException($"Cannot read live data set '{model.Dataset}' to leave out erased users: {e.Message}", e);
        }
        if (current is null)
        {
            return; // the data set was deleted: the model serves what it was trained on until replaced
        }
        int forgotten = 0;
        foreach (string user in model.Ids.UserIds)
        {
            if (!current.Contains(user) && model.Forget(user))
            {
                forgotten++;
            }
        }
        if (forgotten > 0)
        {
            logger.LogInformation("Job {JobId}'s model for {Dataset} forgets {Count} users erased since it was trained", model.JobId, model.Dataset, forgotten);
        }
    }
}
