namespace RankService.Ranking.Data;

/// <summary>
/// A data set ready to train on: ratings (or summed feedback weights) with dense ids, the catalogue of items with
/// their metadata, the items never to recommend to each user, and a fingerprint of the rating content so a
/// checkpoint can say which data it was trained on.
/// </summary>
public sealed class RatingDataset
{
    private static readonly IReadOnlyDictionary<int, int[]> NoLists = new Dictionary<int, int[]>();

    /// <summary>
    /// <paramref name="catalogue"/>: one <see cref="Item"/> per dense item index, its id equal to the map's.
    /// <paramref name="neverRecommend"/>: per dense user index, dense item indices never to recommend to that user
    /// (negative feedback), sorted ascending without duplicates; users without any are absent; null for none.
    /// <paramref name="version"/>: a live data set's snapshot version; null for files.
    /// </summary>
    public RatingDataset(string name, MovieLensFormat format, IdMap users, IdMap items, Rating[] ratings,
        IReadOnlyList<Item> catalogue, string fingerprint, int skippedLines = 0,
        IReadOnlyDictionary<int, int[]>? neverRecommend = null, string? version = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(catalogue);
        if (catalogue.Count != items.Count)
        {
            throw new ArgumentException("One item record per dense item index is required.", nameof(catalogue));
        }
        for (int i = 0; i < catalogue.Count; i++)
        {
            if (!string.Equals(catalogue[i].Id, items.ToId(i), StringComparison.Ordinal))
            {
                throw new ArgumentException($"Item record {i} has id '{catalogue[i].Id}', but the map's item {i} is '{items.ToId(i)}'.", nameof(catalogue));
            }
        }
        Name = name;
        Format = format;
        Users = users;
        Items = items;
        Ratings = ratings;
        Catalogue = catalogue;
        Fingerprint = fingerprint;
        SkippedLines = skippedLines;
        NeverRecommend = neverRecommend ?? NoLists;
        Version = version;
    }

    public string Name { get; }
    public MovieLensFormat Format { get; }
    public IdMap Users { get; }

    /// <summary>The catalogue's ids: every item that has at least one rating (or, for live data, a record).</summary>
    public IdMap Items { get; }

    public Rating[] Ratings { get; }

    /// <summary>Item metadata indexed by dense item index.</summary>
    public IReadOnlyList<Item> Catalogue { get; }

    /// <summary>
    /// Per dense user index, the dense item indices never to recommend to that user (sorted ascending); users
    /// without any are absent. Empty for MovieLens data.
    /// </summary>
    public IReadOnlyDictionary<int, int[]> NeverRecommend { get; }

    /// <summary>The live data set's snapshot version this data was read at; null for file data sets.</summary>
    public string? Version { get; }

    /// <summary>
    /// Hex SHA-256 over the parsed ratings in file order (raw user, raw item, rating, timestamp): the same ratings
    /// give the same fingerprint whatever the format, line endings or number spelling ("4" or "4.0").
    /// </summary>
    public string Fingerprint { get; }

    /// <summary>Malformed lines skipped when the loader was told to skip rather than fail.</summary>
    public int SkippedLines { get; }

    /// <summary>
    /// A data set from string-id interactions (live data sets build theirs this way). Users and items are those of
    /// <paramref name="interactions"/>; dense indices follow <see cref="IdMap"/>'s rule, and the fingerprint hashes
    /// the interactions in the order given (int64 records when every id is an integer, so a MovieLens release read
    /// this way in file order has its file fingerprint). <paramref name="records"/> gives items their metadata
    /// (records of items without interactions are not part of the catalogue); <paramref name="neverRecommend"/>
    /// pairs of unknown users or items are ignored.
    /// </summary>
    public static RatingDataset FromInteractions(string name, IReadOnlyList<Interaction> interactions,
        IEnumerable<Item>? records = null, IEnumerable<(string User, string Item)>? neverRecommend = null,
        string? version = null, MovieLensFormat format = MovieLensFormat.Csv)
    {
        ArgumentNullException.ThrowIfNull(interactions);
        if (interactions.Count == 0)
        {
            throw new ArgumentException("A data set needs at least one interaction.", nameof(interactions));
        }
        var users = new IdMap(interactions.Select(i => i.User));
        var items = new IdMap(interactions.Select(i => i.Item));
        var ratings = new Rating[interactions.Count];
        for (int r = 0; r < ratings.Length; r++)
        {
            Interaction i = interactions[r];
            ratings[r] = new Rating(users.ToIndex(i.User), items.ToIndex(i.Item), i.Value, i.Timestamp);
        }
        var known = new Item?[items.Count];
        foreach (Item record in records ?? [])
        {
            if (items.TryGetIndex(record.Id, out int index))
            {
                known[index] = record;
            }
        }
        Item[] catalogue = known.Select((record, i) => record ?? Item.Bare(items.ToId(i))).ToArray();
        var lists = new Dictionary<int, List<int>>();
        foreach ((string user, string item) in neverRecommend ?? [])
        {
            if (users.TryGetIndex(user, out int u) && items.TryGetIndex(item, out int i))
            {
                if (!lists.TryGetValue(u, out List<int>? list))
                {
                    lists[u] = list = [];
                }
                list.Add(i);
            }
        }
        Dictionary<int, int[]> never = lists.ToDictionary(p => p.Key, p => p.Value.Distinct().Order().ToArray());
        return new RatingDataset(name, format, users, items, ratings, catalogue,
            RatingFingerprint.Of(ratings, users, items), 0, never, version);
    }

    public int UserCount => Users.Count;
    public int ItemCount => Items.Count;
}
