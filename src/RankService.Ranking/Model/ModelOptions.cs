namespace RankService.Ranking.Model;

/// <summary>Shape of the two-tower scorer. Saved in every checkpoint manifest so the model can be rebuilt.</summary>
public sealed record ModelOptions
{
    /// <summary><c>dot</c> (default) or <c>concat-mlp</c>.</summary>
    public string Head { get; init; } = TwoTowerModel.DotHead;

    /// <summary>Size of the ID embeddings (and of the tower outputs when there are no hidden layers).</summary>
    public int EmbeddingDim { get; init; } = 64;

    /// <summary>Hidden layer sizes of each tower (dot head) or of the scoring MLP (concat-mlp head); empty = none.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [];

    public double Dropout { get; init; }

    /// <summary>A learned per-item bias added to every score (popularity the embeddings need not learn).</summary>
    public bool ItemBias { get; init; } = true;
}
