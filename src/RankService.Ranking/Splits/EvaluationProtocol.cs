using System.Text.Json.Serialization;
using RankService.Ranking.Data;
using RankService.Ranking.Training;

namespace RankService.Ranking.Splits;

/// <summary>The evaluation protocols a run can choose, spelled on the wire as their lower-case names.</summary>
[JsonConverter(typeof(WireNameJsonConverter<SplitProtocol>))]
public enum SplitProtocol
{
    /// <summary>Temporal leave-last-out (<see cref="TemporalSplit"/>): one validation and one test item per user, ratings as labels.</summary>
    [JsonStringEnumMemberName("temporal")] Temporal,

    /// <summary>RecBole's default (<see cref="RandomRatioSplit"/>): random 80/10/10 per user, every rating a positive.</summary>
    [JsonStringEnumMemberName("recbole")] RecBole,
}

/// <summary>Splits a data set by a <see cref="SplitProtocol"/>.</summary>
public static class EvaluationProtocol
{
    /// <summary>Splits <paramref name="data"/> by <paramref name="protocol"/>; <paramref name="splitSeed"/> only matters for recbole.</summary>
    public static UserSplit Split(RatingDataset data, SplitProtocol protocol, int splitSeed = RandomRatioSplit.DefaultSeed) => protocol switch
    {
        SplitProtocol.Temporal => TemporalSplit.LeaveLastOut(data),
        SplitProtocol.RecBole => RandomRatioSplit.Split(data, splitSeed),
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Unknown protocol."),
    };
}
