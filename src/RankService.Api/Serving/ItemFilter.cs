using System.Numerics;

namespace RankService.Api.Serving;

/// <summary>
/// A caller's item filter: categories (an item qualifies with any of them) and item ids to leave out, held as one
/// bitset over dense item indices (bit set: allowed). Built from the model's precomputed category bitsets
/// (<see cref="ModelViews.CategoryBits"/>) with a few word ORs, so a request builds no sets and looks up no item's
/// categories; the exact pass then walks only the allowed bits (<see cref="Ranking.Model.TopK.SelectAllowed"/>).
/// </summary>
public sealed class ItemFilter
{
    [ThreadStatic]
    private static ulong[]? t_mask;

    [ThreadStatic]
    private static int[]? t_excluded;

    private readonly ulong[] _allowed;

    private ItemFilter(ulong[] allowed) => _allowed = allowed;

    /// <summary>
    /// The filter of <paramref name="categories"/> (null or empty: any) and <paramref name="exclude"/> (item ids; ids
    /// the model does not know cannot be returned anyway and are ignored); null when it filters nothing.
    /// </summary>
    public static ItemFilter? Create(ServingModel model, IReadOnlyCollection<string>? categories, IEnumerable<string>? exclude)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool byCategory = categories is { Count: > 0 };
        bool excluding = exclude is not null && (exclude is not ICollection<string> c || c.Count > 0);
        if (!byCategory && !excluding)
        {
            return null;
        }
        ModelViews views = ModelViews.Of(model);
        var allowed = new ulong[views.Words];
        if (byCategory)
        {
            foreach (string category in categories!)
            {
                if (views.CategoryBits.TryGetValue(category, out ulong[]? bits))
                {
                    for (int w = 0; w < allowed.Length; w++)
                    {
                        allowed[w] |= bits[w];
                    }
                }
            }
        }
        else
        {
            views.AllItems.CopyTo(allowed);
        }
        bool left = false;
        foreach (string id in exclude ?? [])
        {
            if (model.TryGetItem(id, out int item))
            {
                allowed[item >> 6] &= ~(1UL << item);
                left = true;
            }
        }
        return byCategory || left ? new ItemFilter(allowed) : null;
    }

    /// <summary>True when the filter lets dense item <paramref name="item"/> through.</summary>
    public bool Allows(int item) => (uint)(item >> 6) < (uint)_allowed.Length && (_allowed[item >> 6] & (1UL << item)) != 0;

    /// <summary>
    /// The filter's bitset with <paramref name="excluded"/> (dense item indices) cleared as well: a per-thread buffer,
    /// valid until the next call on this thread.
    /// </summary>
    public ReadOnlySpan<ulong> Mask(ReadOnlySpan<int> excluded)
    {
        int words = _allowed.Length;
        ulong[] mask = t_mask is { } m && m.Length >= words ? m : t_mask = new ulong[words];
        _allowed.AsSpan().CopyTo(mask);
        foreach (int item in excluded)
        {
            mask[item >> 6] &= ~(1UL << item);
        }
        return mask.AsSpan(0, words);
    }

    /// <summary>
    /// <paramref name="excluded"/> (ascending) plus every item the filter does not allow, ascending: a per-thread
    /// buffer, valid until the next call on this thread.
    /// </summary>
    public ReadOnlySpan<int> Excluding(ReadOnlySpan<int> excluded, int itemCount)
    {
        ReadOnlySpan<ulong> mask = Mask(excluded);
        int[] list = t_excluded is { } e && e.Length >= itemCount ? e : t_excluded = new int[itemCount];
        int n = 0;
        for (int w = 0; w < mask.Length; w++)
        {
            ulong dropped = ~mask[w];
            while (dropped != 0)
            {
                int item = (w << 6) + BitOperations.TrailingZeroCount(dropped);
                if (item >= itemCount)
                {
                    break;
                }
                list[n++] = item;
                dropped &= dropped - 1;
            }
        }
        return list.AsSpan(0, n);
    }
}
