using System.Runtime.InteropServices;

namespace RankService.Api.Datasets;

/// <summary>
/// Folds a data set's feedback, read in insertion order, into one labelled pair per (user, item): the summed
/// weight × value of its feedback, where a pair's ratings count once (the latest). Shared by both stores so SQLite and
/// PostgreSQL give the same snapshot of the same writes. Built for tens of millions of rows: stores hand over integer
/// keys and a type index (no string per row), keys map to dense indices through arrays, and a row costs one hash
/// lookup and no allocation.
/// </summary>
internal sealed class SnapshotBuilder
{
    private readonly KeyIndex _userIndex = new();
    private readonly KeyIndex _itemIndex = new();
    private readonly List<string> _users = [];
    private readonly List<LiveItem> _items = [];
    private readonly Dictionary<long, int> _slots;
    private Slot[] _pairs;
    private int _pairCount;
    private readonly string[] _types;
    private readonly double[] _weights;
    private readonly int _rating;

    /// <param name="feedback">The data set's feedback count: pairs are at most that many, so nothing is regrown.</param>
    public SnapshotBuilder(LiveDatasetSettings settings, long feedback)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _types = [.. settings.Types.Keys];
        _weights = [.. settings.Types.Values];
        _rating = Array.IndexOf(_types, LiveDatasetSettings.RatingType);
        int capacity = (int)Math.Clamp(feedback, 16, Array.MaxLength / 2);
        _slots = new Dictionary<long, int>(capacity);
        _pairs = new Slot[capacity];
    }

    /// <summary>The declared types: <see cref="AddFeedback(long, long, int, double?, long?)"/> takes a type as its index here.</summary>
    public IReadOnlyList<string> Types => _types;

    /// <summary>Users in first-insertion order (by their store key).</summary>
    public void AddUser(long key, string id)
    {
        _userIndex.Add(key, _users.Count);
        _users.Add(id);
    }

    public void AddItem(long key, LiveItem item)
    {
        _itemIndex.Add(key, _items.Count);
        _items.Add(item);
    }

    /// <summary>One feedback record, in insertion order. A type the settings no longer declare weighs nothing.</summary>
    public void AddFeedback(long userKey, long itemKey, string type, double? value, long? timestamp) =>
        AddFeedback(userKey, itemKey, Array.IndexOf(_types, type), value, timestamp);

    /// <summary>One feedback record, its type as an index into <see cref="Types"/> (-1: not declared, weighs nothing).</summary>
    public void AddFeedback(long userKey, long itemKey, int type, double? value, long? timestamp)
    {
        if (type < 0 || !_userIndex.TryGet(userKey, out int user) || !_itemIndex.TryGet(itemKey, out int item))
        {
            return;
        }
        double weight = _weights[type];
        // Items are all read before feedback, so user × items + item is unique; (user << 32) | item would hash to
        // user ^ item, a few thousand distinct hashes for millions of pairs.
        long key = (long)user * _items.Count + item;
        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_slots, key, out bool exists);
        if (!exists)
        {
            if (_pairCount == _pairs.Length)
            {
                Array.Resize(ref _pairs, _pairs.Length * 2);
            }
            slot = _pairCount++;
            _pairs[slot] = new Slot { User = user, Item = item };
        }
        ref Slot s = ref _pairs[slot];
        if (type == _rating)
        {
            // The latest rating replaces the earlier ones; equal or missing times: the later write wins.
            if (!s.HasRating || timestamp is null || !s.HasRatingTime || timestamp >= s.RatingTime)
            {
                s.Rating = weight * (value ?? 1);
                s.HasRating = true;
                s.RatingTime = timestamp.GetValueOrDefault();
                s.HasRatingTime = timestamp.HasValue;
            }
        }
        else
        {
            s.Sum += weight * (value ?? 1);
        }
        if (timestamp is { } t)
        {
            s.Latest = s.HasLatest ? Math.Max(s.Latest, t) : t;
            s.HasLatest = true;
        }
    }

    public LiveSnapshot Build(string name, long version)
    {
        int positiveCount = 0;
        for (int i = 0; i < _pairCount; i++)
        {
            positiveCount += _pairs[i].Label > 0 ? 1 : 0;
        }
        var positives = new SnapshotPair[positiveCount];
        var negatives = new List<SnapshotPair>();
        bool allTimed = true;
        int p = 0;
        for (int i = 0; i < _pairCount; i++)
        {
            ref Slot s = ref _pairs[i];
            double label = s.Label;
            long? latest = s.HasLatest ? s.Latest : null;
            if (label > 0)
            {
                positives[p++] = new SnapshotPair(s.User, s.Item, (float)label, latest);
                allTimed &= s.HasLatest;
            }
            else if (label < 0)
            {
                negatives.Add(new SnapshotPair(s.User, s.Item, (float)label, latest));
            }
        }
        return new LiveSnapshot
        {
            Name = name,
            Version = version,
            Users = [.. _users],
            Items = [.. _items],
            Pairs = positives,
            NeverRecommend = [.. negatives],
            AllTimed = allTimed,
        };
    }

    private struct Slot
    {
        public int User;
        public int Item;
        public double Sum;
        public double Rating;
        public long RatingTime;
        public long Latest;
        public bool HasRating;
        public bool HasRatingTime;
        public bool HasLatest;

        public readonly double Label => Sum + (HasRating ? Rating : 0);
    }

    /// <summary>
    /// Store keys (growing, given in order) to dense indices: an array over the key range while the keys are dense
    /// enough (one data set's keys mostly are), a dictionary when they are not (many data sets written in turns).
    /// </summary>
    private sealed class KeyIndex
    {
        private readonly Dictionary<long, int> _map = [];
        private readonly List<long> _keys = [];
        private int[]? _dense;
        private long _first;
        private bool _built;

        public void Add(long key, int index)
        {
            _map[key] = index;
            _keys.Add(key);
            _built = false;
        }

        public bool TryGet(long key, out int index)
        {
            if (!_built)
            {
                _dense = Densify();
                _built = true;
            }
            int[]? dense = _dense;
            if (dense is null)
            {
                return _map.TryGetValue(key, out index);
            }
            long at = key - _first;
            index = (ulong)at < (ulong)dense.Length ? dense[at] : -1;
            return index >= 0;
        }

        private int[]? Densify()
        {
            if (_keys.Count == 0)
            {
                return null;
            }
            long first = _keys.Min(), range = _keys.Max() - first + 1;
            if (range > 4L * _keys.Count + 1024)
            {
                return null;
            }
            var dense = new int[range];
            Array.Fill(dense, -1);
            foreach ((long key, int index) in _map)
            {
                dense[key - first] = index;
            }
            _first = first;
            return dense;
        }
    }
}
