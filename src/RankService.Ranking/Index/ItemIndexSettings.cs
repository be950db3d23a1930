namespace RankService.Ranking.Index;

/// <summary>
/// How an <see cref="ItemIndex"/> is built and searched. The defaults were tuned on trained item vectors (see the
/// README's "Approximate top-k" section and bench/RESULTS.md).
/// </summary>
public sealed record ItemIndexSettings
{
    /// <summary>
    /// HNSW graph degree (USearch "connectivity", M): more links, better recall, slower build, more memory. 32, not
    /// USearch's 16: on trained ml-25m-shaped vectors 16 needed search expansion 512 for recall@10 0.98 and 32 gave 1.0
    /// at 128 (bench/RESULTS.md).
    /// </summary>
    public int Connectivity { get; init; } = 32;

    /// <summary>Candidate list size while inserting (efConstruction): a better graph for a slower build.</summary>
    public int ExpansionAdd { get; init; } = 128;

    /// <summary>Candidate list size while searching (ef); a search for more candidates than this uses that count.</summary>
    public int ExpansionSearch { get; init; } = 64;

    /// <summary>
    /// The recall@10 (against the exact ranking, seen items excluded) a build aims for: while the measured recall is
    /// below it, the build doubles <see cref="ExpansionSearch"/>, up to <see cref="MaxExpansionSearch"/>, and the
    /// expansion reached is saved with the index. 0 keeps <see cref="ExpansionSearch"/> as it is.
    /// </summary>
    public double TargetRecall { get; init; } = 0.98;

    /// <summary>The largest search expansion a build may choose to reach <see cref="TargetRecall"/> (it bounds the latency).</summary>
    public int MaxExpansionSearch { get; init; } = 512;

    /// <summary>The first search asks for max(this, 4k) candidates.</summary>
    public int MinCandidates { get; init; } = 64;

    /// <summary>
    /// The bound on candidates: while fewer than k of them pass the filter the count grows fourfold up to this; then
    /// the ranking falls back to the exact pass, so a filter never shortens the answer.
    /// </summary>
    public int MaxCandidates { get; init; } = 4096;

    /// <summary>Threads that add items while building; 0 for every core.</summary>
    public int BuildThreads { get; init; }

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Connectivity, 2, nameof(Connectivity));
        ArgumentOutOfRangeException.ThrowIfLessThan(ExpansionAdd, 1, nameof(ExpansionAdd));
        ArgumentOutOfRangeException.ThrowIfLessThan(ExpansionSearch, 1, nameof(ExpansionSearch));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinCandidates, 1, nameof(MinCandidates));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxCandidates, MinCandidates, nameof(MaxCandidates));
        ArgumentOutOfRangeException.ThrowIfNegative(BuildThreads, nameof(BuildThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(TargetRecall, nameof(TargetRecall));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TargetRecall, 1.0, nameof(TargetRecall));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxExpansionSearch, 1, nameof(MaxExpansionSearch));
    }
}
