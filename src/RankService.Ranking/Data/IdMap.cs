namespace RankService.Ranking.Data;

/// <summary>
/// Maps raw MovieLens ids (as written in the files, and as the API speaks them) to dense indices 0..Count-1 and back.
/// Dense indices are assigned in ascending raw-id order, so the same set of ids always gives the same map.
/// </summary>
public sealed class IdMap
{
    private readonly long[] _raw;
    private readonly Dictionary<long, int> _index;

    public IdMap(IEnumerable<long> rawIds)
    {
        _raw = rawIds.Distinct().Order().ToArray();
        _index = new Dictionary<long, int>(_raw.Length);
        for (int i = 0; i < _raw.Length; i++)
        {
            _index[_raw[i]] = i;
        }
    }

    public int Count => _raw.Length;

    /// <summary>Raw ids in dense-index order.</summary>
    public IReadOnlyList<long> RawIds => _raw;

    public long ToRaw(int index) => _raw[index];

    public bool TryGetIndex(long rawId, out int index) => _index.TryGetValue(rawId, out index);

    public int ToIndex(long rawId) =>
        _index.TryGetValue(rawId, out int index) ? index : throw new KeyNotFoundException($"Unknown id {rawId}.");
}
