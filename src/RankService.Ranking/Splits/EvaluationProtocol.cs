using RankService.Ranking.Data;

namespace RankService.Ranking.Splits;

/// <summary>The evaluation protocols a run can choose by name.</summary>
public static class EvaluationProtocol
{
    /// <summary>Temporal leave-last-out (<see cref="TemporalSplit"/>): one validation and one test item per user, ratings as labels.</summary>
    public const string Temporal = "temporal";

    /// <summary>RecBole's default (<see cref="RandomRatioSplit"/>): random 80/10/10 per user, every rating a positive.</summary>
    public const string RecBole = "recbole";

    public static readonly IReadOnlyList<string> Names = [Temporal, RecBole];

    public static bool IsKnown(string name) => Names.Contains(name);

    /// <summary>Splits <paramref name="data"/> by the named protocol; <paramref name="splitSeed"/> only matters for recbole.</summary>
    public static UserSplit Split(RatingDataset data, string protocol, int splitSeed = RandomRatioSplit.DefaultSeed) => protocol switch
    {
        Temporal => TemporalSplit.LeaveLastOut(data),
        RecBole => RandomRatioSplit.Split(data, splitSeed),
        _ => throw new ArgumentException($"Unknown protocol '{protocol}'. Known protocols: {string.Join(", ", Names)}.", nameof(protocol)),
    };
}
