using System.Diagnostics;
using Cloud.Unum.USearch;
using RankService.Ranking.Model;

namespace RankService.Ranking.Index;

/// <summary>
/// An approximate inner-product top-k over a <c>dot</c> model's items (USearch HNSW). Each item is stored as
/// [item vector, item bias] and a user asks with [user vector, 1], so the inner product the index ranks by is exactly
/// the model's score. The index only proposes candidates: they are scored again with <see cref="PrecomputedScorer"/>,
/// filtered by the caller's predicate and ordered as the exact pass orders (score descending, lower index first).
/// <para>Thread-safe. <see cref="Dispose"/> waits for no one: a search that started before it finishes on the native
/// index, which is freed when the last such search leaves; a search that starts after it answers "cannot" (-1).</para>
/// </summary>
public sealed class ItemIndex : IDisposable
{
    private const int Retired = int.MinValue / 2;

    private readonly USearchIndex _index;
    private int _leases;
    private int _freed;

    [ThreadStatic]
    private static float[]? t_query;

    [ThreadStatic]
    private static List<int>? t_candidates;

    [ThreadStatic]
    private static float[]? t_candidateScores;

    private ItemIndex(USearchIndex index, int itemCount, int dimensions, ItemIndexSettings settings)
    {
        _index = index;
        ItemCount = itemCount;
        Dimensions = dimensions;
        Settings = settings;
        // Searches beyond the index's per-thread contexts would spin waiting for one; a web server runs many at once.
        UsearchNative.ChangeThreadsSearch(_index, Math.Max(64, 4 * Environment.ProcessorCount));
        UsearchNative.ChangeExpansionSearch(_index, settings.ExpansionSearch);
    }

    public int ItemCount { get; }

    /// <summary>Stored vector length: the model's width plus one for the bias.</summary>
    public int Dimensions { get; }

    public ItemIndexSettings Settings { get; private set; }

    /// <summary>
    /// Changes the search expansion (ef). Meant for tuning before the index is published: a search running meanwhile
    /// may use either value.
    /// </summary>
    public void ChangeExpansionSearch(int expansion)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(expansion, 1);
        UsearchNative.ChangeExpansionSearch(_index, expansion);
        Settings = Settings with { ExpansionSearch = expansion };
    }

    /// <summary>Builds the index over every item of a <c>dot</c> model, adding items from several threads.</summary>
    public static ItemIndex Build(PrecomputedScorer scorer, ItemIndexSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        settings = settings.ForCatalogue(scorer.ItemCount);
        if (!scorer.IsDotProduct)
        {
            throw new ArgumentException("Only a dot-head model's scores are inner products; concat-mlp models are ranked exactly.", nameof(scorer));
        }
        int dimensions = scorer.Width + 1;
        var native = new USearchIndex(MetricKind.Ip, ScalarKind.Float32, (ulong)dimensions,
            (ulong)settings.Connectivity, (ulong)settings.ExpansionAdd, (ulong)settings.ExpansionSearch);
        try
        {
            UsearchNative.Reserve(native, scorer.ItemCount);
            int threads = settings.BuildThreads > 0 ? settings.BuildThreads : Environment.ProcessorCount;
            var options = new ParallelOptions { MaxDegreeOfParallelism = Math.Min(threads, Environment.ProcessorCount), CancellationToken = cancellationToken };
            // Chunks of items per task: one vector buffer each, and cancellation checked between chunks.
            const int chunk = 1024;
            int chunks = (scorer.ItemCount + chunk - 1) / chunk;
            Parallel.For(0, chunks, options, c =>
            {
                var vector = new float[dimensions];
                int end = Math.Min(scorer.ItemCount, (c + 1) * chunk);
                for (int item = c * chunk; item < end; item++)
                {
                    scorer.ItemVectorWithBias(item, vector);
                    native.Add((ulong)item, vector);
                }
            });
            return new ItemIndex(native, scorer.ItemCount, dimensions, settings);
        }
        catch
        {
            native.Dispose();
            throw;
        }
    }

    /// <summary>Loads an index file (already verified by the caller) and checks it holds what the model needs.</summary>
    public static ItemIndex Load(string path, int itemCount, int dimensions, ItemIndexSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var native = new USearchIndex(path);
        try
        {
            ulong size = native.Size();
            ulong dims = native.Dimensions();
            if (size != (ulong)itemCount || dims != (ulong)dimensions)
            {
                throw new InvalidDataException($"The index holds {size} vectors of {dims} dimensions; the model has {itemCount} items of {dimensions}.");
            }
            return new ItemIndex(native, itemCount, dimensions, settings);
        }
        catch
        {
            native.Dispose();
            throw;
        }
    }

    public void Save(string path) => _index.Save(path);

    /// <summary>
    /// The user's top <paramref name="k"/> items among those <paramref name="allowed"/> accepts (null: all), best first,
    /// into <paramref name="top"/>; each one's exact score goes to <c>scores[item]</c> (length ≥ ItemCount). Returns
    /// how many were written (fewer than k only when fewer than k items qualify), or -1 when the index cannot answer:
    /// fewer than k candidates qualified within <see cref="ItemIndexSettings.MaxCandidates"/>, or the index was
    /// disposed. On -1 the caller runs the exact pass.
    /// </summary>
    public int TopK(PrecomputedScorer scorer, int user, int k, Func<int, bool>? allowed, Span<int> top, Span<float> scores) =>
        TopK(scorer, user, k, new PredicateFilter(allowed), top, scores);

    /// <summary>
    /// As <see cref="TopK(PrecomputedScorer, int, int, Func{int, bool}?, Span{int}, Span{float})"/>, leaving out the items
    /// of <paramref name="excluded"/> (ascending, e.g. the user's seen items): no copy of the list and no delegate per
    /// candidate, which the serving path would otherwise pay on every request.
    /// </summary>
    public int TopKExcluding(PrecomputedScorer scorer, int user, int k, ReadOnlySpan<int> excluded, Span<int> top, Span<float> scores) =>
        TopK(scorer, user, k, new ExcludedFilter(excluded), top, scores);

    /// <summary>As above, keeping only the items whose bit is set in <paramref name="allowedBits"/> (bit i of word i / 64).</summary>
    public int TopKWithin(PrecomputedScorer scorer, int user, int k, ReadOnlySpan<ulong> allowedBits, Span<int> top, Span<float> scores) =>
        TopK(scorer, user, k, new BitsFilter(allowedBits), top, scores);

    /// <summary>Which candidates may be returned; a ref struct so a span-backed filter costs no allocation.</summary>
    private interface ICandidateFilter
    {
        bool Allows(int item);
    }

    private readonly struct PredicateFilter(Func<int, bool>? allowed) : ICandidateFilter
    {
        public bool Allows(int item) => allowed is null || allowed(item);
    }

    private readonly ref struct ExcludedFilter(ReadOnlySpan<int> excluded) : ICandidateFilter
    {
        private readonly ReadOnlySpan<int> _excluded = excluded;

        public bool Allows(int item) => _excluded.IsEmpty || _excluded.BinarySearch(item) < 0;
    }

    private readonly ref struct BitsFilter(ReadOnlySpan<ulong> bits) : ICandidateFilter
    {
        private readonly ReadOnlySpan<ulong> _bits = bits;

        public bool Allows(int item) => (_bits[item >> 6] & (1UL << item)) != 0;
    }

    private int TopK<TFilter>(PrecomputedScorer scorer, int user, int k, TFilter filter, Span<int> top, Span<float> scores)
        where TFilter : ICandidateFilter, allows ref struct
    {
        ArgumentNullException.ThrowIfNull(scorer);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(top.Length, k, nameof(top));
        ArgumentOutOfRangeException.ThrowIfLessThan(scores.Length, ItemCount, nameof(scores));
        if (scorer.ItemCount != ItemCount || scorer.Width + 1 != Dimensions)
        {
            throw new ArgumentException("The scorer is not the model this index was built from.", nameof(scorer));
        }
        if (!TryEnter())
        {
            return -1;
        }
        try
        {
            float[] query = t_query is { } q && q.Length == Dimensions ? q : t_query = new float[Dimensions];
            scorer.UserVector(user).CopyTo(query);
            query[^1] = 1f;
            List<int> candidates = t_candidates ??= [];
            int bound = Math.Min(ItemCount, Math.Max(Settings.MaxCandidates, k));
            int want = Math.Min(bound, Math.Max(Settings.MinCandidates, 4 * k));
            int found;
            while (true)
            {
                candidates.Clear();
                found = _index.Search(query, want, out ulong[] keys, out _);
                for (int i = 0; i < found; i++)
                {
                    int item = (int)keys[i];
                    if (filter.Allows(item))
                    {
                        candidates.Add(item);
                    }
                }
                if (candidates.Count >= k || want >= bound)
                {
                    break;
                }
                want = (int)Math.Min(bound, 4L * want);
            }
            // Fewer than k qualify among everything the index returned: an honest short answer only when that was
            // the whole catalogue; otherwise the exact pass decides.
            if (candidates.Count < k && found < ItemCount)
            {
                return -1;
            }
            return SelectExact(scorer, user, candidates, k, top, scores);
        }
        finally
        {
            Exit();
        }
    }

    private static int SelectExact(PrecomputedScorer scorer, int user, List<int> candidates, int k, Span<int> top, Span<float> scores)
    {
        Span<int> items = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates);
        float[] buffer = t_candidateScores is { } b && b.Length >= items.Length ? b : t_candidateScores = new float[Math.Max(items.Length, 256)];
        Span<float> candidateScores = buffer.AsSpan(0, items.Length);
        scorer.ScoreItems(user, items, candidateScores);
        for (int i = 0; i < items.Length; i++)
        {
            scores[items[i]] = candidateScores[i];
        }
        // Ordered as the exact pass orders: score descending (NaN last), ties by lower item index.
        candidateScores.Sort(items, s_bestFirst);
        int count = Math.Min(k, items.Length);
        for (int start = 0; start < items.Length;)
        {
            int end = start + 1;
            while (end < items.Length && Key(candidateScores[end]) == Key(candidateScores[start]))
            {
                end++;
            }
            items[start..end].Sort();
            if (end >= count)
            {
                break;
            }
            start = end;
        }
        items[..count].CopyTo(top);
        return count;
    }

    private static readonly Comparer<float> s_bestFirst = Comparer<float>.Create((x, y) => Key(y).CompareTo(Key(x)));

    private static float Key(float score) => float.IsNaN(score) ? float.NegativeInfinity : score;

    private bool TryEnter()
    {
        if (Interlocked.Increment(ref _leases) > 0)
        {
            return true;
        }
        Exit();
        return false;
    }

    private void Exit()
    {
        if (Interlocked.Decrement(ref _leases) == Retired)
        {
            Free();
        }
    }

    /// <summary>Frees the native index once no search holds it (at once when none does).</summary>
    public void Dispose()
    {
        int before = Volatile.Read(ref _leases);
        while (before >= 0)
        {
            int seen = Interlocked.CompareExchange(ref _leases, before + Retired, before);
            if (seen == before)
            {
                if (before == 0)
                {
                    Free();
                }
                return;
            }
            before = seen;
        }
    }

    private void Free()
    {
        if (Interlocked.Exchange(ref _freed, 1) == 0)
        {
            _index.Dispose();
        }
    }

    internal static double Seconds(long startTimestamp) => Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
}
