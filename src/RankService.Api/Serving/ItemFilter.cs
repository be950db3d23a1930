namespace RankService.Api.Serving;

/// <summary>
/// A caller's item filter: categories (an item qualifies with any of them) and item ids to leave out. It is a predicate
/// over dense item indices (<see cref="Allows"/>), which is what an approximate index's search takes; the exact path
/// turns it, with the model's own exclusions, into one ascending exclusion list for <c>TopK.Select</c>.
/// </summary>
public sealed class ItemFilter
{
    [ThreadStatic]
    private static bool[]? t_mask;

    [ThreadStatic]
    private static int[]? t_excluded;

    private readonly int[]? _inCategories;
    private readonly int[] _left;

    private ItemFilter(int[]? inCategories, int[] left)
    {
        _inCategories = inCategories;
        _left = left;
    }

    /// <summary>
    /// The filter of <paramref name="categories"/> (null or empty: any) and <paramref name="exclude"/> (item ids; ids
    /// the model does not know cannot be returned anyway and are ignored); null when it filters nothing.
    /// </summary>
    public static ItemFilter? Create(ServingModel model, IReadOnlyCollection<string>? categories, IEnumerable<string>? exclude)
    {
        ArgumentNullException.ThrowIfNull(model);
        int[]? inCategories = null;
        if (categories is { Count: > 0 })
        {
            IReadOnlyDictionary<string, int[]> index = ModelViews.Of(model).Categories;
            inCategories = [.. categories.SelectMany(c => index.TryGetValue(c, out int[]? items) ? items : []).Distinct().Order()];
        }
        int[] left = [.. (exclude ?? []).Select(id => model.TryGetItem(id, out int item) ? item : -1).Where(i => i >= 0).Distinct().Order()];
        return inCategories is null && left.Length == 0 ? null : new ItemFilter(inCategories, left);
    }

    /// <summary>True when the filter lets dense item <paramref name="item"/> through.</summary>
    public bool Allows(int item) =>
        (_inCategories is null || Array.BinarySearch(_inCategories, item) >= 0) && Array.BinarySearch(_left, item) < 0;

    /// <summary>
    /// <paramref name="excluded"/> (ascending) plus every item the filter does not allow, ascending: a per-thread
    /// buffer, valid until the next call on this thread.
    /// </summary>
    public ReadOnlySpan<int> Excluding(ReadOnlySpan<int> excluded, int itemCount)
    {
        bool[] mask = t_mask is { } m && m.Length >= itemCount ? m : t_mask = new bool[itemCount];
        Span<bool> drop = mask.AsSpan(0, itemCount);
        if (_inCategories is null)
        {
            drop.Clear();
        }
        else
        {
            drop.Fill(true);
            foreach (int item in _inCategories)
            {
                drop[item] = false;
            }
        }
        foreach (int item in excluded)
        {
            drop[item] = true;
        }
        foreach (int item in _left)
        {
            drop[item] = true;
        }
        int[] list = t_excluded is { } e && e.Length >= itemCount ? e : t_excluded = new int[itemCount];
        int n = 0;
        for (int i = 0; i < itemCount; i++)
        {
            if (drop[i])
            {
                list[n++] = i;
            }
        }
        return list.AsSpan(0, n);
    }
}
