using RankService.Ranking.Training;

namespace RankService.Ranking.Losses;

/// <summary>
/// Finds a loss by its name, as a config or an API request spells it. Each loss reads its own options from
/// <see cref="TrainingOptions"/> in its static <c>Create</c>, declared in its file next to those options.
/// </summary>
public static class LossRegistry
{
    private static readonly Dictionary<string, Func<TrainingOptions, IRankingLoss>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        [ListMle.RegistryName] = _ => new ListMle(),
        [PairwiseLogistic.RegistryName] = PairwiseLogistic.Create,
        [HybridLoss.RegistryName] = HybridLoss.Create,
        [ListNet.RegistryName] = _ => new ListNet(),
        [SoftmaxLoss.RegistryName] = SoftmaxLoss.Create,
        [ApproxNdcg.RegistryName] = ApproxNdcg.Create,
        [LambdaLoss.RegistryName] = LambdaLoss.Create,
        [PairwiseHinge.RegistryName] = PairwiseHinge.Create,
        [TripletLoss.RegistryName] = TripletLoss.Create,
    };

    /// <summary>Registered names, for validation messages and documentation.</summary>
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>The names a hybrid may combine: every loss but hybrid.</summary>
    public static IReadOnlyCollection<string> PartNames => [.. Names.Where(n => !IsHybrid(n))];

    public static bool IsKnown(string name) => Factories.ContainsKey(name);

    public static bool IsHybrid(string name) => string.Equals(name, HybridLoss.RegistryName, StringComparison.OrdinalIgnoreCase);

    /// <summary>The loss <paramref name="name"/> configured by <paramref name="options"/> (default options when null).</summary>
    public static IRankingLoss Create(string name, TrainingOptions? options = null) =>
        Factories.TryGetValue(name, out Func<TrainingOptions, IRankingLoss>? factory)
            ? factory(options ?? new TrainingOptions())
            : throw new ArgumentException($"Unknown loss '{name}'. Known losses: {string.Join(", ", Names)}.", nameof(name));
}
