using System.Text.Json.Serialization;
using RankService.Ranking.Training;

namespace RankService.Ranking.Losses;

/// <summary>The registered losses, spelled on the wire as their registry names (<c>listmle</c>, <c>pairwise-logistic</c>, ...).</summary>
[JsonConverter(typeof(WireNameJsonConverter<LossKind>))]
public enum LossKind
{
    [JsonStringEnumMemberName(Losses.ListMle.RegistryName)] ListMle,
    [JsonStringEnumMemberName(Losses.PairwiseLogistic.RegistryName)] PairwiseLogistic,
    [JsonStringEnumMemberName(HybridLoss.RegistryName)] Hybrid,
    [JsonStringEnumMemberName(Losses.ListNet.RegistryName)] ListNet,
    [JsonStringEnumMemberName(SoftmaxLoss.RegistryName)] Softmax,
    [JsonStringEnumMemberName(Losses.ApproxNdcg.RegistryName)] ApproxNdcg,
    [JsonStringEnumMemberName(Losses.LambdaLoss.RegistryName)] LambdaLoss,
    [JsonStringEnumMemberName(Losses.PairwiseHinge.RegistryName)] PairwiseHinge,
    [JsonStringEnumMemberName(TripletLoss.RegistryName)] Triplet,
}

/// <summary>
/// Makes a loss by its <see cref="LossKind"/>. Each loss reads its own options from <see cref="TrainingOptions"/> in
/// its static <c>Create</c>, declared in its file next to those options.
/// </summary>
public static class LossRegistry
{
    private static readonly Dictionary<LossKind, Func<TrainingOptions, IRankingLoss>> Factories = new()
    {
        [LossKind.ListMle] = _ => new ListMle(),
        [LossKind.PairwiseLogistic] = PairwiseLogistic.Create,
        [LossKind.Hybrid] = HybridLoss.Create,
        [LossKind.ListNet] = _ => new ListNet(),
        [LossKind.Softmax] = SoftmaxLoss.Create,
        [LossKind.ApproxNdcg] = ApproxNdcg.Create,
        [LossKind.LambdaLoss] = LambdaLoss.Create,
        [LossKind.PairwiseHinge] = PairwiseHinge.Create,
        [LossKind.Triplet] = TripletLoss.Create,
    };

    /// <summary>Every registered loss.</summary>
    public static IReadOnlyCollection<LossKind> Kinds => Factories.Keys;

    /// <summary>Registered names as the wire spells them, for messages and documentation.</summary>
    public static IReadOnlyList<string> Names => [.. Kinds.Select(k => k.Wire())];

    /// <summary>The losses a hybrid may combine: every loss but hybrid.</summary>
    public static IReadOnlyList<LossKind> PartKinds => [.. Kinds.Where(k => k != LossKind.Hybrid)];

    /// <summary>The loss <paramref name="kind"/> configured by <paramref name="options"/> (default options when null).</summary>
    public static IRankingLoss Create(LossKind kind, TrainingOptions? options = null) =>
        Factories.TryGetValue(kind, out Func<TrainingOptions, IRankingLoss>? factory)
            ? factory(options ?? new TrainingOptions())
            : throw new ArgumentException($"Unknown loss '{kind.Wire()}'. Known losses: {string.Join(", ", Names)}.", nameof(kind));
}
