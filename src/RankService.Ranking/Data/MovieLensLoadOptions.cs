namespace RankService.Ranking.Data;

public sealed record MovieLensLoadOptions
{
    /// <summary>
    /// Skip malformed lines and count them in <see cref="RatingDataset.SkippedLines"/> instead of throwing.
    /// A wrong header or a missing ratings file still throws: those are not line errors.
    /// </summary>
    public bool SkipMalformedLines { get; init; }
}
