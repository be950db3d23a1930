using RankService.Ranking.Metrics;

namespace RankService.Ranking.Tests.Metrics;

/// <summary>A scorer that reads a fixed users × items table, and counts how often it was asked.</summary>
internal sealed class TableScorer(float[][] table) : IItemScorer
{
    public int ItemCount => table[0].Length;
    public int Calls { get; private set; }

    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        Calls++;
        for (int i = 0; i < users.Length; i++)
        {
            table[users[i]].CopyTo(scores.Slice(i * ItemCount, ItemCount));
        }
    }
}
