using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>
/// Body of <c>POST /jobs</c>. Every field is optional: a missing one takes the configured default
/// (section <c>Training</c> of appsettings.json, itself defaulting to the library's measured defaults).
/// </summary>
public sealed record JobRequest
{
    /// <summary>A configured data set name (<c>ml-100k</c>, ...) or <c>synthetic</c> for the built-in offline set.</summary>
    /// <example>synthetic</example>
    public string? Dataset { get; init; }

    /// <summary>Evaluation protocol: <c>temporal</c> (leave-last-out) or <c>recbole</c> (random 80/10/10 per user, every rating a positive).</summary>
    /// <example>temporal</example>
    public string? Protocol { get; init; }

    /// <summary>Seed of the recbole split (RecBole's default is 2020).</summary>
    /// <example>2020</example>
    public int? SplitSeed { get; init; }

    /// <summary>
    /// Loss: <c>listmle</c>, <c>pairwise-logistic</c>, <c>hybrid</c>, <c>listnet</c>, <c>softmax</c>, <c>approx-ndcg</c>,
    /// <c>lambda-loss</c>, <c>pairwise-hinge</c> or <c>triplet</c>.
    /// </summary>
    /// <example>listmle</example>
    public string? Loss { get; init; }

    /// <summary>Hybrid weight in [0, 1]: alpha * hybridFirst + (1 - alpha) * hybridSecond.</summary>
    /// <example>0.5</example>
    public double? Alpha { get; init; }

    /// <summary>Hybrid's first loss, any loss but hybrid.</summary>
    /// <example>listmle</example>
    public string? HybridFirst { get; init; }

    /// <summary>Hybrid's second loss, any loss but hybrid.</summary>
    /// <example>pairwise-logistic</example>
    public string? HybridSecond { get; init; }

    /// <summary>Margin of pairwise-hinge and triplet, 0 to 100.</summary>
    /// <example>1</example>
    public double? Margin { get; init; }

    /// <summary>approx-ndcg sigmoid temperature, 1e-4 to 100.</summary>
    /// <example>1</example>
    public double? Temperature { get; init; }

    /// <summary>lambda-loss weighting: <c>ndcg-loss2++</c> or <c>lambdarank</c>.</summary>
    /// <example>ndcg-loss2++</example>
    public string? LambdaWeighting { get; init; }

    /// <summary>lambda-loss mu of NDCG-Loss2++, 0 to 1000.</summary>
    /// <example>10</example>
    public double? LambdaMu { get; init; }

    /// <summary>lambda-loss truncation at k, 0 (whole list) to 100000.</summary>
    /// <example>0</example>
    public int? LambdaK { get; init; }

    /// <summary>softmax candidates sampled per batch with log-q correction, 0 (full catalogue) to 1000000.</summary>
    /// <example>0</example>
    public int? SoftmaxSamples { get; init; }

    /// <summary>softmax reduction over a user's rated items: <c>mean</c> (every user weighs the same) or <c>sum</c> (every rated item weighs the same).</summary>
    /// <example>sum</example>
    public string? SoftmaxReduction { get; init; }

    /// <summary>triplet similarity: <c>dot</c> or <c>distance</c>.</summary>
    /// <example>dot</example>
    public string? TripletForm { get; init; }

    /// <summary>triplet negative mining: <c>random</c>, <c>hard</c> or <c>semi-hard</c>.</summary>
    /// <example>semi-hard</example>
    public string? TripletMining { get; init; }

    /// <summary>triplet: lowest rating that makes a positive, 0.5 to 100.</summary>
    /// <example>4</example>
    public double? TripletThreshold { get; init; }

    /// <summary>Most epochs to train, 1 to 10000.</summary>
    /// <example>5</example>
    public int? Epochs { get; init; }

    /// <summary>Lists (users) per batch, 1 to 65536.</summary>
    /// <example>64</example>
    public int? BatchSize { get; init; }

    /// <summary>Adam learning rate, 1e-7 to 10.</summary>
    /// <example>0.01</example>
    public double? LearningRate { get; init; }

    /// <summary>Adam L2 weight decay, 0 to 1.</summary>
    /// <example>0.001</example>
    public double? WeightDecay { get; init; }

    /// <summary>Scoring head: <c>dot</c> or <c>concat-mlp</c>.</summary>
    /// <example>dot</example>
    public string? Head { get; init; }

    /// <summary>Embedding size, 1 to 4096.</summary>
    /// <example>32</example>
    public int? EmbeddingDim { get; init; }

    /// <summary>Hidden layer sizes of each tower, at most 8 layers of 1 to 8192; empty for plain embeddings.</summary>
    /// <example>[]</example>
    public IReadOnlyList<int>? HiddenSizes { get; init; }

    /// <summary>Dropout in the towers, 0 to 0.95.</summary>
    /// <example>0</example>
    public double? Dropout { get; init; }

    /// <summary>Learn a bias per item.</summary>
    /// <example>true</example>
    public bool? ItemBias { get; init; }

    /// <summary>Unrated items (label 0) added to each training list, 0 to 100000.</summary>
    /// <example>200</example>
    public int? NegativesPerList { get; init; }

    /// <summary>Most recent train items kept per list, 1 to 100000.</summary>
    /// <example>200</example>
    public int? MaxListSize { get; init; }

    /// <summary>Pairs sampled per list by pairwise losses, 0 (all) to 1000000.</summary>
    /// <example>1024</example>
    public int? PairsPerList { get; init; }

    /// <summary>Epochs without a better validation NDCG@10 before stopping, 0 (never) to 10000.</summary>
    /// <example>5</example>
    public int? Patience { get; init; }

    /// <summary>Gradient-norm clipping before each Adam step, 0 (none) to 1000000.</summary>
    /// <example>5</example>
    public double? GradientClipNorm { get; init; }

    /// <summary>
    /// Adam on the embedding tables: <c>dense</c> (every row every step), <c>lazy</c> (only the rows a batch touches;
    /// CPU) or <c>auto</c> (dense up to 100,000 users + items, lazy above).
    /// </summary>
    /// <example>auto</example>
    public string? EmbeddingUpdates { get; init; }

    /// <summary>Random seed.</summary>
    /// <example>42</example>
    public int? Seed { get; init; }

    /// <summary>Device: <c>auto</c>, <c>cpu</c> or <c>cuda</c>.</summary>
    /// <example>auto</example>
    public string? Device { get; init; }

    /// <summary>
    /// Retrain a model: the id of a job with a checkpoint (GET /models/{id}). Its manifest's training config and its
    /// data set replace the configured defaults; any other field given here still overrides them.
    /// </summary>
    /// <example>null</example>
    public string? FromModel { get; init; }

    /// <summary>
    /// A full training config to start from instead of the configured defaults, e.g. a manifest's <c>training</c>
    /// object from GET /models/{id}; fields given beside it still override it. Not together with <see cref="FromModel"/>.
    /// </summary>
    /// <example>null</example>
    public TrainingOptions? Training { get; init; }

    /// <summary>The request's fields over <paramref name="defaults"/>.</summary>
    public TrainingOptions ToTrainingOptions(TrainingOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        return defaults with
        {
            Protocol = Protocol ?? defaults.Protocol,
            SplitSeed = SplitSeed ?? defaults.SplitSeed,
            Loss = Loss ?? defaults.Loss,
            Alpha = Alpha ?? defaults.Alpha,
            HybridFirst = HybridFirst ?? defaults.HybridFirst,
            HybridSecond = HybridSecond ?? defaults.HybridSecond,
            Margin = Margin ?? defaults.Margin,
            Temperature = Temperature ?? defaults.Temperature,
            LambdaWeighting = LambdaWeighting ?? defaults.LambdaWeighting,
            LambdaMu = LambdaMu ?? defaults.LambdaMu,
            LambdaK = LambdaK ?? defaults.LambdaK,
            SoftmaxSamples = SoftmaxSamples ?? defaults.SoftmaxSamples,
            SoftmaxReduction = SoftmaxReduction ?? defaults.SoftmaxReduction,
            TripletForm = TripletForm ?? defaults.TripletForm,
            TripletMining = TripletMining ?? defaults.TripletMining,
            TripletThreshold = TripletThreshold ?? defaults.TripletThreshold,
            Epochs = Epochs ?? defaults.Epochs,
            BatchSize = BatchSize ?? defaults.BatchSize,
            LearningRate = LearningRate ?? defaults.LearningRate,
            WeightDecay = WeightDecay ?? defaults.WeightDecay,
            Head = Head ?? defaults.Head,
            EmbeddingDim = EmbeddingDim ?? defaults.EmbeddingDim,
            HiddenSizes = HiddenSizes ?? defaults.HiddenSizes,
            Dropout = Dropout ?? defaults.Dropout,
            ItemBias = ItemBias ?? defaults.ItemBias,
            NegativesPerList = NegativesPerList ?? defaults.NegativesPerList,
            MaxListSize = MaxListSize ?? defaults.MaxListSize,
            PairsPerList = PairsPerList ?? defaults.PairsPerList,
            Patience = Patience ?? defaults.Patience,
            GradientClipNorm = GradientClipNorm ?? defaults.GradientClipNorm,
            EmbeddingUpdates = EmbeddingUpdates ?? defaults.EmbeddingUpdates,
            Seed = Seed ?? defaults.Seed,
            Device = Device ?? defaults.Device,
        };
    }
}
