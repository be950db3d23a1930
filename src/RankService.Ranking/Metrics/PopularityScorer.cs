using RankService.Ranking.Splits;

namespace RankService.Ranking.Metrics;

/// <summary>
/// The non-personalised baseline: every user gets the same scores, an item's score being its number of train
/// interactions. Validation and test items are not counted, so the baseline cannot peek at what it is scored on.
/// </summary>
public sealed class PopularityScorer : IItemScorer
{
    private readonly float[] _counts;

    public PopularityScorer(UserSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        _counts = new float[split.ItemCount];
        foreach (int[] history in split.TrainItems)
        {
            foreach (int item in history)
            {
                _counts[item]++;
            }
        }
    }

    public int ItemCount => _counts.Length;

    /// <summary>Train interaction count of each item, by dense item index.</summary>
    public IReadOnlyList<float> Counts => _counts;

    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        if (scores.Length < users.Length * _counts.Length)
        {
            throw new ArgumentException("Need users.Length * ItemCount scores.", nameof(scores));
        }
        for (int i = 0; i < users.Length; i++)
        {
            _counts.CopyTo(scores.Slice(i * _counts.Length, _counts.Length));
        }
    }
}
