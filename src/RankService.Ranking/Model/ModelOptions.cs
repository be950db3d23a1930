using System.Text.Json.Serialization;
using RankService.Ranking.Training;

namespace RankService.Ranking.Model;

/// <summary>The two-tower scorer's head, spelled on the wire as <c>dot</c> or <c>concat-mlp</c>.</summary>
[JsonConverter(typeof(WireNameJsonConverter<ScoringHead>))]
public enum ScoringHead
{
    [JsonStringEnumMemberName("dot")] Dot,
    [JsonStringEnumMemberName("concat-mlp")] ConcatMlp,
}

/// <summary>Shape of the two-tower scorer. Saved in every checkpoint manifest so the model can be rebuilt.</summary>
public sealed record ModelOptions
{
    /// <summary><c>dot</c> (default) or <c>concat-mlp</c>.</summary>
    public ScoringHead Head { get; init; } = ScoringHead.Dot;

    /// <summary>Size of the ID embeddings (and of the tower outputs when there are no hidden layers).</summary>
    public int EmbeddingDim { get; init; } = 64;

    /// <summary>Hidden layer sizes of each tower (dot head) or of the scoring MLP (concat-mlp head); empty = none.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [];

    public double Dropout { get; init; }

    /// <summary>A learned per-item bias added to every score (popularity the embeddings need not learn).</summary>
    public bool ItemBias { get; init; } = true;
}
