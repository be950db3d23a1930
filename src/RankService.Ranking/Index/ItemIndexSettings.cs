namespace RankService.Ranking.Index;

/// <summary>
/// How an <see cref="ItemIndex"/> is built and searched. The defaults were tuned on trained item vectors (see the
/// README's "Approximate top-k" section and bench/RESULTS.md).
/// </summary>
public sealed record ItemIndexSettings
{
    /// <summary>
    /// HNSW graph degree (USearch "connectivity", M): more links, better recall, slower build, more memory. 0 (the
    /// default) chooses by catalogue size (<see cref="ForCatalogue"/>): 32 up to <see cref="LargeCatalogueItems"/> items,
    /// 16 above. 32, not USearch's 16, because on trained ml-25m-shaped vectors 16 needed search expansion 512 for
    /// recall@10 0.98 and 32 gave 1.0 at 128; 16 above, because at a million items connectivity 32 with expansion add 128
    /// took 649 s to build on 2 cores, 16 with 64 took 106-210 s and 16 with 32 took 63 s, each at recall@10 1.0 on the
    /// trained vectors (bench/RESULTS.md).
    /// </summary>
    public int Connectivity { get; init; }

    /// <summary>
    /// Candidate list size while inserting (efConstruction): a better graph for a slower build. 0 (the default): 128
    /// (USearch's default) up to <see cref="LargeCatalogueItems"/> items, 32 above (twice the connectivity there; a
    /// graph that comes out worse costs a wider search, which the build chooses from its measured recall).
    /// </summary>
    public int ExpansionAdd { get; init; }

    /// <summary>
    /// The catalogue size above which the automatic <see cref="Connectivity"/> and <see cref="ExpansionAdd"/> are the
    /// cheaper 16 and 32: a build's cost grows faster than the item count once the vectors leave the caches.
    /// </summary>
    public int LargeCatalogueItems { get; init; } = 250_000;

    /// <summary>
    /// Candidate list size while searching (ef); a search for more candidates than this uses that count. The build starts
    /// here and doubles it while recall is below <see cref="TargetRecall"/>. 16: with <see cref="MinCandidates"/> 16 the
    /// first search at k = 10 asks for 40 candidates; on the trained ml-25m-shaped vectors that gave recall@10 1.0 and
    /// 14,215 rankings/s at p99 2.6 ms where 64 candidates gave 10,582 at p99 3.9 ms (bench/RESULTS.md).
    /// </summary>
    public int ExpansionSearch { get; init; } = 16;

    /// <summary>
    /// The recall@10 (against the exact ranking, seen items excluded) a build aims for: while the measured recall is
    /// below it, the build doubles <see cref="ExpansionSearch"/>, up to <see cref="MaxExpansionSearch"/>, and the
    /// expansion reached is saved with the index. 0 keeps <see cref="ExpansionSearch"/> as it is.
    /// </summary>
    public double TargetRecall { get; init; } = 0.98;

    /// <summary>The largest search expansion a build may choose to reach <see cref="TargetRecall"/> (it bounds the latency).</summary>
    public int MaxExpansionSearch { get; init; } = 512;

    /// <summary>The first search asks for max(this, 4k) candidates.</summary>
    public int MinCandidates { get; init; } = 16;

    /// <summary>
    /// The bound on candidates: while fewer than k of them pass the filter the count grows fourfold up to this; then
    /// the ranking falls back to the exact pass, so a filter never shortens the answer.
    /// </summary>
    public int MaxCandidates { get; init; } = 4096;

    /// <summary>Threads that add items while building; 0 for every core.</summary>
    public int BuildThreads { get; init; }

    /// <summary>These settings with an automatic (0) <see cref="Connectivity"/> and <see cref="ExpansionAdd"/> resolved for <paramref name="items"/> items.</summary>
    public ItemIndexSettings ForCatalogue(int items)
    {
        bool large = items > LargeCatalogueItems;
        return this with
        {
            Connectivity = Connectivity > 0 ? Connectivity : large ? 16 : 32,
            ExpansionAdd = ExpansionAdd > 0 ? ExpansionAdd : large ? 32 : 128,
        };
    }

    public void Validate()
    {
        if (Connectivity is 1 or < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Connectivity), Connectivity, "Connectivity must be 0 (automatic) or at least 2.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(ExpansionAdd, nameof(ExpansionAdd));
        ArgumentOutOfRangeException.ThrowIfNegative(LargeCatalogueItems, nameof(LargeCatalogueItems));
        ArgumentOutOfRangeException.ThrowIfLessThan(ExpansionSearch, 1, nameof(ExpansionSearch));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinCandidates, 1, nameof(MinCandidates));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCandidates, MinCandidates, nameof(MaxCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(BuildThreads, nameof(BuildThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(TargetRecall, nameof(TargetRecall));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TargetRecall, 1.0, nameof(TargetRecall));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxExpansionSearch, 1, nameof(MaxExpansionSearch));
    }
}
