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

    /// <summary>
    /// Cold start (<see cref="ColdUsersSplit"/>): 10 % of users held out of training, folded in from 80 % of their items
    /// and tested on the other 20 %.
    /// </summary>
    [JsonStringEnumMemberName("cold-users")] ColdUsers,

    /// <summary>The <c>cold-users</c> split with the held-out users' 80 % in training: the warm reference for the same test items.</summary>
    [JsonStringEnumMemberName("cold-users-warm")] ColdUsersWarm,
}

/// <summary>Splits a data set by a <see cref="SplitProtocol"/>.</summary>
public static class EvaluationProtocol
{
    /// <summary>Splits <paramref name="data"/> by <paramref name="protocol"/>; <paramref name="splitSeed"/> shapes every split but temporal.</summary>
    public static UserSplit Split(RatingDataset data, SplitProtocol protocol, int splitSeed = RandomRatioSplit.DefaultSeed) => protocol switch
    {
        SplitProtocol.Temporal => TemporalSplit.LeaveLastOut(data),
        SplitProtocol.RecBole => RandomRatioSplit.Split(data, splitSeed),
        SplitProtocol.ColdUsers => ColdUsersSplit.Create(data, splitSeed, trainedIn: false),
        SplitProtocol.ColdUsersWarm => ColdUsersSplit.Create(data, splitSeed, trainedIn: true),
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "Unknown protocol."),
    };
}
