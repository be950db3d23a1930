using RankService.Ranking.Losses;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Training;

/// <summary>
/// Everything that defines a training run. Every field has a default; <see cref="Validate"/> names each invalid
/// field with its allowed range, so the CLI and the API can say exactly what to fix.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Evaluation protocol: <c>temporal</c> (leave-last-out) or <c>recbole</c> (random 80/10/10 per user, implicit).</summary>
    public string Protocol { get; init; } = EvaluationProtocol.Temporal;

    /// <summary>Seed of the recbole split, kept apart from <see cref="Seed"/> so runs with different seeds share one split.</summary>
    public int SplitSeed { get; init; } = RandomRatioSplit.DefaultSeed;

    /// <summary>Loss by registry name (<see cref="LossRegistry.Names"/>).</summary>
    public string Loss { get; init; } = ListMle.RegistryName;

    /// <summary>Hybrid weight: alpha * first + (1 - alpha) * second.</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>Hybrid parts by registry name, any loss but hybrid.</summary>
    public string HybridFirst { get; init; } = ListMle.RegistryName;
    public string HybridSecond { get; init; } = PairwiseLogistic.RegistryName;

    /// <summary>Margin of pairwise-hinge and triplet.</summary>
    public double Margin { get; init; } = 1.0;

    /// <summary>ApproxNDCG sigmoid temperature.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>LambdaLoss weighting: ndcg-loss2++ or lambdarank.</summary>
    public string LambdaWeighting { get; init; } = LambdaLoss.NdcgLoss2PlusPlus;

    /// <summary>LambdaLoss mu for NDCG-Loss2++.</summary>
    public double LambdaMu { get; init; } = 10;

    /// <summary>LambdaLoss truncation at k; 0 = whole list.</summary>
    public int LambdaK { get; init; }

    /// <summary>Softmax candidates sampled per batch (log-q corrected); 0 = full catalogue.</summary>
    public int SoftmaxSamples { get; init; }

    /// <summary>Softmax: <c>mean</c> (every user weighs the same) or <c>sum</c> (every rated item weighs the same) over a list's rated items.</summary>
    public string SoftmaxReduction { get; init; } = SoftmaxLoss.MeanReduction;

    /// <summary>Triplet similarity: dot or distance.</summary>
    public string TripletForm { get; init; } = TripletLoss.DotForm;

    /// <summary>Triplet negative mining: random, hard or semi-hard.</summary>
    public string TripletMining { get; init; } = TripletLoss.SemiHardMining;

    /// <summary>Lowest rating that makes an item a triplet positive.</summary>
    public double TripletThreshold { get; init; } = 4;

    public int Epochs { get; init; } = 50;

    /// <summary>Lists (users) per batch.</summary>
    public int BatchSize { get; init; } = 64;

    public double LearningRate { get; init; } = 1e-2;

    /// <summary>Adam's L2 weight decay: the main quality lever on MovieLens (1e-3 to 1e-2; 1e-3 measured best here).</summary>
    public double WeightDecay { get; init; } = 1e-3;

    public string Head { get; init; } = TwoTowerModel.DotHead;
    public int EmbeddingDim { get; init; } = 64;
    public IReadOnlyList<int> HiddenSizes { get; init; } = [];
    public double Dropout { get; init; }
    public bool ItemBias { get; init; } = true;

    /// <summary>Items the user never rated, label 0, added to each training list (200 beat 100 on ml-100k).</summary>
    public int NegativesPerList { get; init; } = 200;

    /// <summary>Most recent train items kept per list.</summary>
    public int MaxListSize { get; init; } = 200;

    /// <summary>Pairs sampled per list by pairwise losses; 0 = all pairs.</summary>
    public int PairsPerList { get; init; } = 1024;

    /// <summary>Epochs without a better validation NDCG@10 before stopping; 0 = never stop early.</summary>
    public int Patience { get; init; } = 8;

    public double GradientClipNorm { get; init; } = 5.0;
    public int Seed { get; init; } = 42;

    /// <summary>auto (CUDA when available), cpu or cuda.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>
    /// Intra-op threads for CPU training; 0 = one per core. A process-wide libtorch setting: the CLI applies it once
    /// before its first run (<see cref="TorchThreads"/>); the trainer itself never sets it.
    /// </summary>
    public int Threads { get; init; }

    public static readonly IReadOnlyList<string> Devices = ["auto", "cpu", "cuda"];

    /// <summary>
    /// How Adam updates the embedding tables: <c>dense</c> updates every row every step (torch.optim.Adam; with
    /// weight decay even rows absent from the batch move); <c>lazy</c> gives the embeddings sparse gradients and
    /// updates only the rows a batch touches, their moments included (like torch.optim.SparseAdam or LazyAdam), so a
    /// step costs the batch, not the table; <c>auto</c> (default) is dense up to <see cref="LazyAutoRows"/> users plus
    /// items (ml-100k, ml-1m, ml-10m: results unchanged) and lazy above (ml-20m, ml-25m, where a dense step over
    /// 14 M weights cost ~40x the batch's own work).
    /// </summary>
    public string EmbeddingUpdates { get; init; } = "auto";

    public static readonly IReadOnlyList<string> EmbeddingUpdateModes = ["auto", "dense", "lazy"];

    /// <summary>Users plus items above which <c>auto</c> embedding updates are lazy.</summary>
    public const int LazyAutoRows = 100_000;

    /// <summary>Whether a model over <paramref name="users"/> and <paramref name="items"/> gets lazy embedding updates.</summary>
    public bool LazyEmbeddingUpdates(int users, int items) => EmbeddingUpdates switch
    {
        "lazy" => true,
        "dense" => false,
        _ => (long)users + items > LazyAutoRows,
    };

    public ModelOptions ToModelOptions() => new()
    {
        Head = Head,
        EmbeddingDim = EmbeddingDim,
        HiddenSizes = HiddenSizes,
        Dropout = Dropout,
        ItemBias = ItemBias,
    };

    public LossOptions ToLossOptions() => new()
    {
        Alpha = Alpha,
        HybridFirst = HybridFirst,
        HybridSecond = HybridSecond,
        PairsPerList = PairsPerList > 0 ? PairsPerList : null,
        Margin = Margin,
        Temperature = Temperature,
        LambdaWeighting = LambdaWeighting,
        LambdaMu = LambdaMu,
        LambdaK = LambdaK > 0 ? LambdaK : null,
        SoftmaxSamples = SoftmaxSamples,
        SoftmaxReduction = SoftmaxReduction,
        TripletForm = TripletForm,
        TripletMining = TripletMining,
        TripletThreshold = TripletThreshold,
    };

    /// <summary>Field name to problem, empty when the options are valid.</summary>
    public IReadOnlyDictionary<string, string> Validate()
    {
        var errors = new Dictionary<string, string>();
        void Range(string name, double value, double min, double max)
        {
            if (double.IsNaN(value) || value < min || value > max)
            {
                errors[name] = $"{name} must be between {min} and {max}; got {value}.";
            }
        }

        if (!LossRegistry.IsKnown(Loss))
        {
            errors[nameof(Loss)] = $"Unknown loss '{Loss}'. Known losses: {string.Join(", ", LossRegistry.Names)}.";
        }
        if (!EvaluationProtocol.IsKnown(Protocol))
        {
            errors[nameof(Protocol)] = $"Unknown protocol '{Protocol}'. Use one of: {string.Join(", ", EvaluationProtocol.Names)}.";
        }
        foreach ((string field, string part) in new[] { (nameof(HybridFirst), HybridFirst), (nameof(HybridSecond), HybridSecond) })
        {
            if (!LossRegistry.IsKnown(part) || LossRegistry.IsHybrid(part))
            {
                errors[field] = $"{field} must name a loss other than hybrid: {string.Join(", ", LossRegistry.Names.Where(n => !LossRegistry.IsHybrid(n)))}; got '{part}'.";
            }
        }
        if (!LambdaLoss.Weightings.Contains(LambdaWeighting))
        {
            errors[nameof(LambdaWeighting)] = $"Unknown LambdaWeighting '{LambdaWeighting}'. Use one of: {string.Join(", ", LambdaLoss.Weightings)}.";
        }
        if (!SoftmaxLoss.Reductions.Contains(SoftmaxReduction))
        {
            errors[nameof(SoftmaxReduction)] = $"Unknown SoftmaxReduction '{SoftmaxReduction}'. Use one of: {string.Join(", ", SoftmaxLoss.Reductions)}.";
        }
        if (!TripletLoss.Forms.Contains(TripletForm))
        {
            errors[nameof(TripletForm)] = $"Unknown TripletForm '{TripletForm}'. Use one of: {string.Join(", ", TripletLoss.Forms)}.";
        }
        if (!TripletLoss.Minings.Contains(TripletMining))
        {
            errors[nameof(TripletMining)] = $"Unknown TripletMining '{TripletMining}'. Use one of: {string.Join(", ", TripletLoss.Minings)}.";
        }
        if (!TwoTowerModel.Heads.Contains(Head))
        {
            errors[nameof(Head)] = $"Unknown head '{Head}'. Known heads: {string.Join(", ", TwoTowerModel.Heads)}.";
        }
        if (!Devices.Contains(Device))
        {
            errors[nameof(Device)] = $"Unknown device '{Device}'. Use one of: {string.Join(", ", Devices)}.";
        }
        if (!EmbeddingUpdateModes.Contains(EmbeddingUpdates))
        {
            errors[nameof(EmbeddingUpdates)] = $"Unknown EmbeddingUpdates '{EmbeddingUpdates}'. Use one of: {string.Join(", ", EmbeddingUpdateModes)}.";
        }
        Range(nameof(Alpha), Alpha, 0, 1);
        Range(nameof(Margin), Margin, 0, 100);
        Range(nameof(Temperature), Temperature, 1e-4, 100);
        Range(nameof(LambdaMu), LambdaMu, 0, 1000);
        Range(nameof(LambdaK), LambdaK, 0, 100_000);
        Range(nameof(SoftmaxSamples), SoftmaxSamples, 0, 1_000_000);
        Range(nameof(TripletThreshold), TripletThreshold, 0.5, 100);
        Range(nameof(SplitSeed), SplitSeed, 0, int.MaxValue);
        Range(nameof(Epochs), Epochs, 1, 10_000);
        Range(nameof(BatchSize), BatchSize, 1, 65_536);
        Range(nameof(LearningRate), LearningRate, 1e-7, 10);
        Range(nameof(WeightDecay), WeightDecay, 0, 1);
        Range(nameof(EmbeddingDim), EmbeddingDim, 1, 4096);
        Range(nameof(Dropout), Dropout, 0, 0.95);
        Range(nameof(NegativesPerList), NegativesPerList, 0, 100_000);
        Range(nameof(MaxListSize), MaxListSize, 1, 100_000);
        Range(nameof(PairsPerList), PairsPerList, 0, 1_000_000);
        Range(nameof(Patience), Patience, 0, 10_000);
        Range(nameof(GradientClipNorm), GradientClipNorm, 0, 1e6);
        Range(nameof(Threads), Threads, 0, 1024);
        if (HiddenSizes.Count > 8 || HiddenSizes.Any(h => h is < 1 or > 8192))
        {
            errors[nameof(HiddenSizes)] = "HiddenSizes takes at most 8 layers, each between 1 and 8192.";
        }
        return errors;
    }
}
