namespace RankService.Api.Datasets;

/// <summary>
/// Folds a data set's feedback, read in insertion order, into one labelled pair per (user, item): the summed
/// weight × value of its feedback, where a pair's ratings count once (the latest). Shared by both stores so SQLite and
/// PostgreSQL give the same snapshot of the same writes.
/// </summary>
internal sealed class SnapshotBuilder
{
    private readonly Dictionary<long, int> _userIndex = [];
    private readonly Dictionary<long, int> _itemIndex = [];
    private readonly List<string> _users = [];
    private readonly List<LiveItem> _items = [];
    private readonly Dictionary<long, int> _slots = [];
    private readonly List<Slot> _pairs = [];
    private readonly IReadOnlyDictionary<string, double> _weights;

    public SnapshotBuilder(LiveDatasetSettings settings) => _weights = settings.Types;

    /// <summary>Users in first-insertion order (by their store key).</summary>
    public void AddUser(long key, string id)
    {
        _userIndex[key] = _users.Count;
        _users.Add(id);
    }

    public void AddItem(long key, LiveItem item)
    {
        _itemIndex[key] = _items.Count;
        _items.Add(item);
    }

    /// <summary>One feedback record, in insertion order. A type the settings no longer declare weighs nothing.</summary>
    public void AddFeedback(long userKey, long itemKey, string type, double? value, long? timestamp)
    {
        if (!_weights.TryGetValue(type, out double weight) || !_userIndex.TryGetValue(userKey, out int user) || !_itemIndex.TryGetValue(itemKey, out int item))
        {
            return;
        }
        // Items are all read before feedback, so user × items + item is unique; (user << 32) | item would hash to
        // user ^ item, a few thousand distinct hashes for millions of pairs.
        long key = (long)user * _items.Count + item;
        if (!_slots.TryGetValue(key, out int slot))
        {
            slot = _pairs.Count;
            _slots[key] = slot;
            _pairs.Add(new Slot { User = user, Item = item });
        }
        Slot s = _pairs[slot];
        if (type == LiveDatasetSettings.RatingType)
        {
            // The latest rating replaces the earlier ones; equal or missing times: the later write wins.
            if (s.Rating is null || timestamp is null || s.RatingTime is null || timestamp >= s.RatingTime)
            {
                s.Rating = weight * (value ?? 1);
                s.RatingTime = timestamp;
            }
        }
        else
        {
            s.Sum += weight * (value ?? 1);
        }
        if (timestamp is { } t)
        {
            s.Latest = s.Latest is { } l ? Math.Max(l, t) : t;
        }
        _pairs[slot] = s;
    }

    public LiveSnapshot Build(string name, long version)
    {
        var positives = new List<SnapshotPair>(_pairs.Count);
        var negatives = new List<SnapshotPair>();
        bool allTimed = true;
        foreach (Slot s in _pairs)
        {
            double label = s.Sum + (s.Rating ?? 0);
            if (label > 0)
            {
                positives.Add(new SnapshotPair(s.User, s.Item, (float)label, s.Latest));
                allTimed &= s.Latest is not null;
            }
            else if (label < 0)
            {
                negatives.Add(new SnapshotPair(s.User, s.Item, (float)label, s.Latest));
            }
        }
        return new LiveSnapshot
        {
            Name = name,
            Version = version,
            Users = [.. _users],
            Items = [.. _items],
            Pairs = [.. positives],
            NeverRecommend = [.. negatives],
            AllTimed = allTimed,
        };
    }

    private struct Slot
    {
        public int User;
        public int Item;
        public double Sum;
        public double? Rating;
        public long? RatingTime;
        public long? Latest;
    }
}
