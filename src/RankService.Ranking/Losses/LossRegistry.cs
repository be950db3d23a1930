namespace RankService.Ranking.Losses;

/// <summary>Options every loss may read; each loss takes only what it needs.</summary>
public sealed record LossOptions
{
    /// <summary>Hybrid weight of the first loss, in [0, 1].</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>Hybrid parts, by registry name (any loss but hybrid).</summary>
    public string HybridFirst { get; init; } = ListMle.RegistryName;
    public string HybridSecond { get; init; } = PairwiseLogistic.RegistryName;

    /// <summary>Pairs drawn per list by pairwise losses; null = all pairs.</summary>
    public int? PairsPerList { get; init; } = 1024;

    /// <summary>Margin of pairwise-hinge and triplet.</summary>
    public double Margin { get; init; } = 1.0;

    /// <summary>ApproxNDCG's sigmoid temperature.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>LambdaLoss weighting: ndcg-loss2++ or lambdarank.</summary>
    public string LambdaWeighting { get; init; } = LambdaLoss.NdcgLoss2PlusPlus;

    /// <summary>LambdaLoss mu (weight of the NDCG-Loss2 term in NDCG-Loss2++).</summary>
    public double LambdaMu { get; init; } = 10;

    /// <summary>LambdaLoss truncation at k; null = the whole list.</summary>
    public int? LambdaK { get; init; }

    /// <summary>Softmax candidates sampled per batch; 0 = full catalogue.</summary>
    public int SoftmaxSamples { get; init; }

    /// <summary>Softmax reduction over a list's rated items: mean or sum.</summary>
    public string SoftmaxReduction { get; init; } = SoftmaxLoss.MeanReduction;

    /// <summary>Triplet similarity: dot or distance.</summary>
    public string TripletForm { get; init; } = TripletLoss.DotForm;

    /// <summary>Triplet negative mining: random, hard or semi-hard.</summary>
    public string TripletMining { get; init; } = TripletLoss.SemiHardMining;

    /// <summary>Lowest label (rating) that makes an item a triplet positive.</summary>
    public double TripletThreshold { get; init; } = 4;
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
            if (IsHybrid(o.HybridFirst) || IsHybrid(o.HybridSecond))
            {
                throw new ArgumentException("A hybrid loss cannot contain another hybrid.");
            }
            return new HybridLoss(Create(o.HybridFirst, o), Create(o.HybridSecond, o), o.Alpha);
        },
        [ListNet.RegistryName] = _ => new ListNet(),
        [SoftmaxLoss.RegistryName] = o => new SoftmaxLoss(o.SoftmaxSamples, o.SoftmaxReduction),
        [ApproxNdcg.RegistryName] = o => new ApproxNdcg(o.Temperature),
        [LambdaLoss.RegistryName] = o => new LambdaLoss(o.LambdaWeighting, o.LambdaMu, o.LambdaK),
        [PairwiseHinge.RegistryName] = o => new PairwiseHinge(o.Margin, o.PairsPerList),
        [TripletLoss.RegistryName] = o => new TripletLoss(o.Margin, o.TripletForm, o.TripletMining, o.TripletThreshold),
    };

    /// <summary>Registered names, for validation messages and documentation.</summary>
    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static bool IsKnown(string name) => Factories.ContainsKey(name);

    public static bool IsHybrid(string name) => string.Equals(name, HybridLoss.RegistryName, StringComparison.OrdinalIgnoreCase);

    public static IRankingLoss Create(string name, LossOptions? options = null) =>
        Factories.TryGetValue(name, out Func<LossOptions, IRankingLoss>? factory)
            ? factory(options ?? new LossOptions())
            : throw new ArgumentException($"Unknown loss '{name}'. Known losses: {string.Join(", ", Names)}.", nameof(name));
}
