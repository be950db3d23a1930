namespace RankService.Ranking.Metrics;

/// <summary>Scores every catalogue item for a batch of users; higher is better.</summary>
public interface IItemScorer
{
    int ItemCount { get; }

    /// <summary>Writes <c>users.Length * ItemCount</c> scores, row-major (one row per user), into <paramref name="scores"/>.</summary>
    void Score(ReadOnlySpan<int> users, Span<float> scores);
}
