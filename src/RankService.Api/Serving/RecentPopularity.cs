using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;
using RankService.Api.Datasets;

namespace RankService.Api.Serving;

/// <summary>
/// <c>GET /items/popular?window=</c> on a live data set: items by their positive feedback events within the window,
/// counted in the data set's store. A count is kept a few seconds per (data set, window), so a burst of requests costs
/// one query, not one scan of the feedback each.
/// </summary>
public sealed partial class RecentPopularity(ILiveDatasetStore store, TimeProvider clock)
{
    /// <summary>How long a count is reused.</summary>
    public static readonly TimeSpan Fresh = TimeSpan.FromSeconds(5);

    /// <summary>The longest window accepted (ten years).</summary>
    public static readonly TimeSpan MaxWindow = TimeSpan.FromDays(3650);

    private const int MaxCached = 256;

    private readonly ConcurrentDictionary<(string Dataset, TimeSpan Window), (DateTimeOffset At, IReadOnlyDictionary<string, long>? Counts)> _cache = new();

    /// <summary>The recent counts by item id; null when the data set is not a live one.</summary>
    public async Task<IReadOnlyDictionary<string, long>?> CountsAsync(string dataset, TimeSpan window, CancellationToken cancellationToken)
    {
        DateTimeOffset now = clock.GetUtcNow();
        if (_cache.TryGetValue((dataset, window), out var hit) && now - hit.At < Fresh)
        {
            return hit.Counts;
        }
        IReadOnlyDictionary<string, long>? counts = await store.RecentItemCountsAsync(dataset, window, cancellationToken);
        if (_cache.Count >= MaxCached)
        {
            _cache.Clear();
        }
        _cache[(dataset, window)] = (now, counts);
        return counts;
    }

    /// <summary>
    /// The counts over a serving model's catalogue: items with at least one recent event, most first, ties in
    /// catalogue order. Items the model was not trained on are left out (it cannot say whether they are hidden or
    /// which categories they have).
    /// </summary>
    public static Popularity Over(ServingModel model, IReadOnlyDictionary<string, long> counts)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(counts);
        int[] perItem = new int[model.ItemCount];
        foreach ((string id, long count) in counts)
        {
            if (model.TryGetItem(id, out int item))
            {
                perItem[item] = (int)Math.Min(count, int.MaxValue);
            }
        }
        int[] order = [.. Enumerable.Range(0, perItem.Length).Where(i => perItem[i] > 0 && !model.Item(i).Hidden).OrderByDescending(i => perItem[i]).ThenBy(i => i)];
        return new Popularity(perItem, order, PopularitySources.Recent);
    }

    /// <summary>
    /// Reads a window: a number with a unit (<c>90s</c>, <c>30m</c>, <c>24h</c>, <c>7d</c>, <c>2w</c>) or an ISO 8601
    /// duration (<c>P7D</c>, <c>PT12H</c>). Null and a message when it is not one, not above zero or over ten years.
    /// </summary>
    public static TimeSpan? ParseWindow(string text, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        problem = null;
        TimeSpan? window = null;
        Match short_ = ShortWindow().Match(text.Trim());
        if (short_.Success && double.TryParse(short_.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount))
        {
            double days = short_.Groups[2].Value switch
            {
                "s" => amount / 86_400,
                "m" => amount / 1_440,
                "h" => amount / 24,
                "d" => amount,
                _ => amount * 7,
            };
            window = days <= MaxWindow.TotalDays ? TimeSpan.FromDays(days) : MaxWindow + TimeSpan.FromDays(1);
        }
        else if (text.Trim().StartsWith('P'))
        {
            try
            {
                window = XmlConvert.ToTimeSpan(text.Trim());
            }
            catch (FormatException)
            {
            }
            catch (OverflowException)
            {
                window = MaxWindow + TimeSpan.FromDays(1);
            }
        }
        if (window is null)
        {
            problem = $"'{text}' is not a window: give a number and a unit (90s, 30m, 24h, 7d, 2w) or an ISO 8601 duration (P7D, PT12H).";
        }
        else if (window <= TimeSpan.Zero)
        {
            problem = "The window must be longer than zero, e.g. window=7d.";
            window = null;
        }
        else if (window > MaxWindow)
        {
            problem = "The window may be at most ten years (3650d).";
            window = null;
        }
        return window;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)([smhdw])$", RegexOptions.CultureInvariant)]
    private static partial Regex ShortWindow();
}
