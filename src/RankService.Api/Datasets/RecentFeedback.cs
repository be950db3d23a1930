using System.Data.Common;

namespace RankService.Api.Datasets;

/// <summary>The store-independent half of <see cref="ILiveDatasetStore.RecentItemCountsAsync"/>.</summary>
internal static class RecentFeedback
{
    /// <summary>
    /// Sums rows of (item id, feedback type, events), grouped by the store's query, per item over the types the
    /// settings weigh above 0.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> SumAsync(DbDataReader reader, LiveDatasetSettings settings, CancellationToken cancellationToken)
    {
        HashSet<string> positive = [.. settings.PositiveTypes()];
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (positive.Contains(reader.GetString(1)))
            {
                string item = reader.GetString(0);
                counts[item] = counts.GetValueOrDefault(item) + reader.GetInt64(2);
            }
        }
        return counts;
    }
}
