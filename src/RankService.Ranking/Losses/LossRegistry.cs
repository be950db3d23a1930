namespace RankService.Ranking.Losses;

/// <summary>Options every loss may read; each loss takes only what it needs.</summary>
public sealed record LossOptions
{
    /// <summary>Hybrid weight of the first loss, in [0, 1].</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>Hybrid parts, by registry name.</summary>
    public string HybridFirst { get; init; } = ListMle.RegistryName;
    public string HybridSecond { get; init; } = PairwiseLogistic.RegistryName;

    /// <summary>Pairs drawn per list by pairwise losses; null = all pairs.</summary>
    public int? PairsPerList { get; init; } = 1024;
}

/// <summary>Finds a loss by its name, as a config or an API request spells it.</summary>
public static class LossRegistry
{
    private static readonly Dictionary<string, Func<LossOptions, IRankingLoss>> Factories = new(StringComparer.OrdinalIgnoreCase)
    {
        [ListMle.RegistryName] = _ => new ListMle(),
        [PairwiseLogistic.RegistryName] = o => new PairwiseLogistic(o.PairsPerList),
        [HybridLoss.RegistryName] = o =>
        {
            if (string.Equals(o.HybridFirst, HybridLoss.RegistryName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(o.HybridSecond, HybridLoss.RegistryName, StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException("A hybrid loss cannot contain another hybrid.");
            }
            return new HybridLoss(Create(o.HybridFirst, o), Create(o.HybridSecond, o), o.Alpha);
        },
    };

    /// <summary>Registered names, for validation messages and documentation.</summary>
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static bool IsKnown(string name) => Factories.ContainsKey(name);

    public static IRankingLoss Create(string name, LossOptions? options = null) =>
        Factories.TryGetValue(name, out Func<LossOptions, IRankingLoss>? factory)
            ? factory(options ?? new LossOptions())
            : throw new ArgumentException($"Unknown loss '{name}'. Known losses: {string.Join(", ", Names)}.", nameof(name));
}
