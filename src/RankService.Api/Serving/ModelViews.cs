using System.Runtime.CompilerServices;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace RankService.Api.Serving;

/// <summary>
/// What the recommendation endpoints derive once per serving model and keep beside it (not in it, so the ranking
/// path does not change): items by category, train-set popularity, items by timestamp, and unit-length user and item
/// vectors for cosine lookups. Built on first use and dropped with the model.
/// </summary>
public sealed class ModelViews
{
    private static readonly ConditionalWeakTable<ServingModel, ModelViews> Views = [];

    private readonly ServingModel _model;
    private readonly Lazy<float[]> _unitItems;
    private readonly Lazy<float[]> _unitItemColumns;
    private readonly Lazy<float[]> _unitUsers;
    private readonly ulong[] _allItems;
    private readonly Lock _gate = new();
    private Popularity? _trainPopularity;

    private ModelViews(ServingModel model)
    {
        _model = model;
        int n = model.ItemCount;
        var categories = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            foreach (string category in model.Item(i).Categories)
            {
                if (!categories.TryGetValue(category, out List<int>? items))
                {
                    categories[category] = items = [];
                }
                if (items.Count == 0 || items[^1] != i)
                {
                    items.Add(i);
                }
            }
        }
        Categories = categories.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal);
        Words = (n + 63) >> 6;
        CategoryBits = categories.ToDictionary(p => p.Key, p => Bits(p.Value, Words), StringComparer.Ordinal);
        ulong[] all = new ulong[Words];
        for (int i = 0; i < n; i++)
        {
            all[i >> 6] |= 1UL << i;
        }
        _allItems = all;

        // Counts over the data set the model was trained on: every user's rated items, as the seen file stores them.
        var counts = new int[n];
        if (model.Seen is { } seen)
        {
            for (int u = 0; u < seen.UserCount; u++)
            {
                foreach (int item in seen.For(u))
                {
                    counts[item]++;
                }
            }
        }
        Counts = counts;
        Popular = [.. Enumerable.Range(0, n).Where(i => !model.Item(i).Hidden).OrderByDescending(i => counts[i]).ThenBy(i => i)];
        Latest = [.. Enumerable.Range(0, n).Where(i => !model.Item(i).Hidden && model.Item(i).Timestamp is not null)
            .OrderByDescending(i => model.Item(i).Timestamp).ThenBy(i => i)];
        _unitItems = new Lazy<float[]>(BuildUnitItems);
        _unitItemColumns = new Lazy<float[]>(() => Columns(_unitItems.Value, n, model.Scorer.Width));
        _unitUsers = new Lazy<float[]>(BuildUnitUsers);
    }

    public static ModelViews Of(ServingModel model) => Views.GetValue(model, m => new ModelViews(m));

    /// <summary>
    /// <see cref="TrainPopularity"/> with a configured file data set loaded through <paramref name="datasets"/>; a live
    /// data set or one that cannot be loaded counts the seen file.
    /// </summary>
    public static Popularity PopularityOf(ServingModel model, Jobs.IDatasetProvider datasets, Options.DataOptions data)
    {
        ArgumentNullException.ThrowIfNull(datasets);
        ArgumentNullException.ThrowIfNull(data);
        return Of(model).TrainPopularity(name =>
        {
            if (!data.IsKnown(name))
            {
                return null;
            }
            try
            {
                return datasets.Load(name, CancellationToken.None);
            }
            catch (MovieLensDataException)
            {
                return null;
            }
        });
    }


    /// <summary>
    /// Popularity over the TRAIN split the serving model was trained on (its manifest's protocol and split seed), so
    /// the list does not count the held-out validation and test items: the data set is loaded and split once per model,
    /// on first use, and only when it is still the data the model was trained on (same fingerprint). Otherwise (a live
    /// data set, data changed or unreadable since) the counts of the checkpoint's seen file, every rated item.
    /// </summary>
    public Popularity TrainPopularity(Func<string, RatingDataset?> load)
    {
        ArgumentNullException.ThrowIfNull(load);
        if (Volatile.Read(ref _trainPopularity) is { } known)
        {
            return known;
        }
        lock (_gate)
        {
            return _trainPopularity ??= CountTrainSplit(load) ?? new Popularity(Counts, Popular, PopularitySources.Seen);
        }
    }

    private Popularity? CountTrainSplit(Func<string, RatingDataset?> load)
    {
        RatingDataset? data = load(_model.Dataset);
        if (data is null || data.Fingerprint != _model.Manifest.Dataset.Fingerprint)
        {
            return null;
        }
        TrainingOptions training = _model.Manifest.Training;
        UserSplit split = EvaluationProtocol.Split(data, training.Protocol, training.SplitSeed);
        int n = _model.ItemCount;
        var toModel = new int[data.ItemCount];
        for (int i = 0; i < toModel.Length; i++)
        {
            toModel[i] = _model.TryGetItem(data.Items.ToId(i), out int item) ? item : -1;
        }
        var counts = new int[n];
        foreach (int[] items in split.TrainItems)
        {
            foreach (int i in items)
            {
                if (toModel[i] >= 0)
                {
                    counts[toModel[i]]++;
                }
            }
        }
        int[] order = [.. Enumerable.Range(0, n).Where(i => !_model.Item(i).Hidden).OrderByDescending(i => counts[i]).ThenBy(i => i)];
        return new Popularity(counts, order, PopularitySources.Train);
    }

    /// <summary>Dense item indices per category, ascending.</summary>
    public IReadOnlyDictionary<string, int[]> Categories { get; }

    /// <summary>
    /// The same as bitsets (bit i of word i / 64, <see cref="Words"/> words): a filter of several categories is their OR,
    /// a few word operations instead of a set built per request.
    /// </summary>
    public IReadOnlyDictionary<string, ulong[]> CategoryBits { get; }

    /// <summary>Every catalogue item's bit set.</summary>
    public ReadOnlySpan<ulong> AllItems => _allItems;

    /// <summary>Words of an item bitset: ceil(items / 64).</summary>
    public int Words { get; }

    /// <summary>Interactions per item in the data set the model was trained on (its seen file).</summary>
    public IReadOnlyList<int> Counts { get; }

    /// <summary>Items that are not hidden, most interactions first (ties: lower index).</summary>
    public IReadOnlyList<int> Popular { get; }

    /// <summary>Items that are not hidden and have a timestamp, newest first (ties: lower index).</summary>
    public IReadOnlyList<int> Latest { get; }

    /// <summary>Item vectors scaled to unit length, [items, width] (a zero vector stays zero).</summary>
    public ReadOnlySpan<float> UnitItems() => _unitItems.Value;

    /// <summary>
    /// The cosine of item <paramref name="item"/>'s vector with every item's into <paramref name="scores"/> (length ≥ items):
    /// <see cref="Ranking.Model.PrecomputedScorer.Width"/> SIMD multiply-adds over catalogue-long rows of the unit item
    /// vectors stored dimension-major (built once per model), rather than one short dot product per item. No allocation.
    /// </summary>
    public void ItemCosines(int item, Span<float> scores)
    {
        int n = _model.ItemCount, d = _model.Scorer.Width;
        ReadOnlySpan<float> columns = _unitItemColumns.Value;
        ReadOnlySpan<float> self = UnitItems().Slice(item * d, d);
        Span<float> s = scores[..n];
        s.Clear();
        for (int k = 0; k < d; k++)
        {
            TensorPrimitives.MultiplyAdd(columns.Slice(k * n, n), self[k], s, s);
        }
    }

    /// <summary>User vectors scaled to unit length, [users, width].</summary>
    public ReadOnlySpan<float> UnitUsers() => _unitUsers.Value;

    private float[] BuildUnitItems()
    {
        int d = _model.Scorer.Width;
        var rows = new float[_model.ItemCount * d];
        for (int i = 0; i < _model.ItemCount; i++)
        {
            Span<float> row = rows.AsSpan(i * d, d);
            _model.Scorer.CopyItemVector(i, row);
            Normalize(row);
        }
        return rows;
    }

    private float[] BuildUnitUsers()
    {
        int d = _model.Scorer.Width;
        var rows = new float[_model.Scorer.UserCount * d];
        for (int u = 0; u < _model.Scorer.UserCount; u++)
        {
            Span<float> row = rows.AsSpan(u * d, d);
            _model.Scorer.UserVector(u).CopyTo(row);
            Normalize(row);
        }
        return rows;
    }

    private static float[] Columns(float[] rows, int count, int width)
    {
        var columns = new float[rows.Length];
        for (int i = 0; i < count; i++)
        {
            for (int k = 0; k < width; k++)
            {
                columns[(k * count) + i] = rows[(i * width) + k];
            }
        }
        return columns;
    }

    private static ulong[] Bits(IEnumerable<int> items, int words)
    {
        var bits = new ulong[words];
        foreach (int i in items)
        {
            bits[i >> 6] |= 1UL << i;
        }
        return bits;
    }

    private static void Normalize(Span<float> row)
    {
        float norm = TensorPrimitives.Norm(row);
        if (norm > 0)
        {
            TensorPrimitives.Divide(row, norm, row);
        }
    }
}

/// <summary>A popularity list: interactions per item (by dense index) and the unhidden items, most first (ties: lower index).</summary>
/// <param name="Source">Where the counts come from (<see cref="PopularitySources"/>).</param>
public sealed record Popularity(IReadOnlyList<int> Counts, IReadOnlyList<int> Order, string Source);

/// <summary>The <c>source</c> values of <c>GET /items/popular</c>.</summary>
public static class PopularitySources
{
    /// <summary>The serving model's train split.</summary>
    public const string Train = "train-counts";

    /// <summary>Every item each user rated, as the checkpoint's seen file holds them (the data changed since training, or a live data set).</summary>
    public const string Seen = "seen-counts";

    /// <summary>Positive feedback events of a live data set within the request's <c>window</c>.</summary>
    public const string Recent = "recent-feedback";
}
