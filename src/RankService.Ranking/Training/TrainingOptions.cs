using System.Text.Json.Serialization;
using RankService.Ranking.Losses;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;

namespace RankService.Ranking.Training;

/// <summary>
/// Everything that defines a training run, flat, as manifests, resume states and <c>POST /jobs</c> write it. Each
/// property is described once by its <see cref="TrainingOptionAttribute"/> (the default is its initialiser); the
/// options one loss reads are declared in that loss's file (a <c>partial</c> section). <see cref="TrainingOptionCatalog"/>
/// turns the descriptions into the CLI options, the API fields, the OpenAPI schema and <see cref="Validate"/>.
/// </summary>
public sealed partial record TrainingOptions
{
    // A choice is an enum spelled on the wire by its [JsonStringEnumMemberName]s (WireNames); its members are its
    // allowed values, or the subset ChoicesFrom/ChoicesMember name (hybrid's parts).
    [TrainingOption("Evaluation protocol: temporal (leave-last-out), recbole (random 80/10/10 per user, every rating a positive), cold-users (10% of users never trained on, folded in from 80% of their items, tested on the rest) or cold-users-warm (the same split with that 80% trained on).")]
    public SplitProtocol Protocol { get; init; } = SplitProtocol.Temporal;

    /// <summary>Kept apart from <see cref="Seed"/> so runs with different seeds share one split.</summary>
    [TrainingOption("Seed of the recbole and cold-users splits (RecBole's default is 2020).", Min = 0, Max = int.MaxValue)]
    public int SplitSeed { get; init; } = RandomRatioSplit.DefaultSeed;

    [TrainingOption("The ranking loss.")]
    public LossKind Loss { get; init; } = LossKind.ListMle;

    [TrainingOption("Most epochs to train.", Min = 1, Max = 10_000)]
    public int Epochs { get; init; } = 50;

    [TrainingOption("Lists (users) per batch.", Min = 1, Max = 65_536)]
    public int BatchSize { get; init; } = 64;

    [TrainingOption("Adam learning rate.", Min = 1e-7, Max = 10, Cli = "--lr")]
    public double LearningRate { get; init; } = 1e-2;

    /// <summary>The main quality lever on MovieLens (1e-3 to 1e-2; 1e-3 measured best here).</summary>
    [TrainingOption("Adam's L2 weight decay.", Min = 0, Max = 1)]
    public double WeightDecay { get; init; } = 1e-3;

    [TrainingOption("Scoring head.")]
    public ScoringHead Head { get; init; } = ScoringHead.Dot;

    [TrainingOption("Embedding size.", Min = 1, Max = 4096)]
    public int EmbeddingDim { get; init; } = 64;

    [TrainingOption("Hidden layer sizes of each tower (at most 8 layers); empty for plain embeddings.", Min = 1, Max = 8192, MaxItems = 8, Cli = "--hidden")]
    public IReadOnlyList<int> HiddenSizes { get; init; } = [];

    [TrainingOption("Dropout in the towers.", Min = 0, Max = 0.95)]
    public double Dropout { get; init; }

    [TrainingOption("Learn a bias per item.")]
    public bool ItemBias { get; init; } = true;

    /// <summary>200 beat 100 on ml-100k.</summary>
    [TrainingOption("Items the user never rated (label 0) added to each training list.", Min = 0, Max = 100_000, Cli = "--negatives")]
    public int NegativesPerList { get; init; } = 200;

    [TrainingOption("Most recent train items kept per list.", Min = 1, Max = 100_000)]
    public int MaxListSize { get; init; } = 200;

    [TrainingOption("Epochs without a better validation NDCG@10 before stopping; 0 = never stop early.", Min = 0, Max = 10_000)]
    public int Patience { get; init; } = 8;

    [TrainingOption("Clip the gradient's global norm at this value before each Adam step; 0 = no clipping.", Min = 0, Max = 1e6, Cli = "--clip-norm")]
    public double GradientClipNorm { get; init; } = 5.0;

    [TrainingOption("Random seed of the run (initialisation, sampling, shuffling).")]
    public int Seed { get; init; } = 42;

    [TrainingOption("Device: auto (CUDA when available), cpu or cuda.")]
    public TrainingDevice Device { get; init; } = TrainingDevice.Auto;

    /// <summary>
    /// A process-wide libtorch setting: the CLI applies it once before a run (<see cref="TorchThreads"/>); the trainer
    /// itself never sets it, and the service takes Jobs:TrainingThreads instead.
    /// </summary>
    [TrainingOption("Intra-op threads for CPU training; 0 = one per core.", Min = 0, Max = 1024, HostOnly = true)]
    public int Threads { get; init; }

    /// <summary>
    /// <c>dense</c> updates every row every step (torch.optim.Adam; with weight decay even rows absent from the batch
    /// move); <c>lazy</c> gives the embeddings sparse gradients and updates only the rows a batch touches, their
    /// moments included (like torch.optim.SparseAdam or LazyAdam), so a step costs the batch, not the table;
    /// <c>auto</c> is dense up to <see cref="LazyAutoRows"/> users plus items (ml-100k, ml-1m, ml-10m: results
    /// unchanged) and lazy above (ml-20m, ml-25m, where a dense step over 14 M weights cost ~40x the batch's own work).
    /// </summary>
    [TrainingOption("Adam on the embedding tables: dense (every row every step), lazy (only the rows a batch touches; CPU) or auto (dense up to 100,000 users + items, lazy above).")]
    public EmbeddingUpdateMode EmbeddingUpdates { get; init; } = EmbeddingUpdateMode.Auto;

    /// <summary>Users plus items above which <c>auto</c> embedding updates are lazy.</summary>
    public const int LazyAutoRows = 100_000;

    /// <summary>Whether a model over <paramref name="users"/> and <paramref name="items"/> gets lazy embedding updates.</summary>
    public bool LazyEmbeddingUpdates(int users, int items) => EmbeddingUpdates switch
    {
        EmbeddingUpdateMode.Lazy => true,
        EmbeddingUpdateMode.Dense => false,
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

    /// <summary>JSON field name to problem (with the allowed range or values); empty when the options are valid.</summary>
    public IReadOnlyDictionary<string, string> Validate() => TrainingOptionCatalog.Validate(this);
}

/// <summary>How Adam updates the embedding tables (<see cref="TrainingOptions.EmbeddingUpdates"/>).</summary>
[JsonConverter(typeof(WireNameJsonConverter<EmbeddingUpdateMode>))]
public enum EmbeddingUpdateMode
{
    [JsonStringEnumMemberName("auto")] Auto,
    [JsonStringEnumMemberName("dense")] Dense,
    [JsonStringEnumMemberName("lazy")] Lazy,
}
