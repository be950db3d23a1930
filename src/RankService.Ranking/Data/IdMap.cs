namespace RankService.Ranking.Data;

/// <summary>
/// Maps string ids (as the data set spells them, and as the API speaks them) to dense indices 0..Count-1 and back.
/// When every id is a canonical integer (<see cref="ExternalId.IsCanonicalInteger"/>: MovieLens, synthetic) dense
/// indices follow ascending numeric order, as they did when ids were integers, so MovieLens results stay
/// bit-identical; otherwise ordinal string order. Either way the same set of ids always gives the same map.
/// </summary>
public sealed class IdMap
{
    private readonly string[] _ids;
    private readonly long[]? _integers;
    private readonly Dictionary<string, int> _index;

    public IdMap(IEnumerable<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        string[] distinct = ids.Distinct(StringComparer.Ordinal).ToArray();
        var integers = new long[distinct.Length];
        bool allIntegers = true;
        for (int i = 0; i < distinct.Length && allIntegers; i++)
        {
            allIntegers = ExternalId.IsCanonicalInteger(distinct[i], out integers[i]);
        }
        if (allIntegers)
        {
            Array.Sort(integers, distinct);
            _integers = integers;
        }
        else
        {
            Array.Sort(distinct, StringComparer.Ordinal);
        }
        _ids = distinct;
        _index = new Dictionary<string, int>(_ids.Length, StringComparer.Ordinal);
        for (int i = 0; i < _ids.Length; i++)
        {
            _index[_ids[i]] = i;
        }
    }

    /// <summary>Integer ids (MovieLens files, the synthetic generator) as their decimal strings.</summary>
    public IdMap(IEnumerable<long> integerIds)
        : this(integerIds.Distinct().Select(ExternalId.Of))
    {
    }

    public int Count => _ids.Length;

    /// <summary>Ids in dense-index order.</summary>
    public IReadOnlyList<string> Ids => _ids;

    /// <summary>True when every id is a canonical integer (then <see cref="Integers"/> is not null).</summary>
    public bool AllIntegers => _integers is not null;

    /// <summary>The ids as numbers in dense-index order when <see cref="AllIntegers"/>; else null.</summary>
    public IReadOnlyList<long>? Integers => _integers;

    public string ToId(int index) => _ids[index];

    public bool TryGetIndex(string id, out int index) => _index.TryGetValue(id, out index);

    public int ToIndex(string id) =>
        _index.TryGetValue(id, out int index) ? index : throw new KeyNotFoundException($"Unknown id '{id}'.");

    /// <summary>Convenience for integer ids: the index of <paramref name="id"/>'s decimal string.</summary>
    public int ToIndex(long id) => ToIndex(ExternalId.Of(id));

    /// <summary>Convenience for integer ids: the index of <paramref name="id"/>'s decimal string.</summary>
    public bool TryGetIndex(long id, out int index) => TryGetIndex(ExternalId.Of(id), out index);
}
