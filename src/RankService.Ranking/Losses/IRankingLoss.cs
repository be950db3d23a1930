using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Losses;

/// <summary>
/// A listwise ranking loss. Every loss takes the same arguments so the trainer never branches on the loss.
/// Shapes: <c>scores</c> [lists, positions] (float), <c>labels</c> [lists, positions] (graded relevance, 0 = not
/// relevant), <c>mask</c> [lists, positions] (bool, true = real item, false = padding). Padding may sit anywhere.
/// A loss that needs more than the list scores (the whole catalogue's scores, the tower embeddings) says so in
/// <see cref="Needs"/>; the trainer fills those fields of <see cref="LossBatch"/> by capability, never by loss name.
/// </summary>
public interface IRankingLoss
{
    /// <summary>The registry name, e.g. <c>listmle</c>.</summary>
    string Name { get; }

    /// <summary>The inputs this loss reads beyond the list scores, labels and mask.</summary>
    LossNeeds Needs => LossNeeds.None;

    /// <summary>
    /// The scalar loss to minimise, averaged over lists, and its named parts for logging (a single-part loss
    /// reports itself under its own name). <paramref name="generator"/> drives any randomness (tie shuffling,
    /// pair sampling) so runs are reproducible.
    /// </summary>
    LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null);

    /// <summary>The loss on a full batch; losses with <see cref="Needs"/> beyond the list scores override this.</summary>
    LossOutput Compute(LossBatch batch, Generator? generator = null) => Compute(batch.Scores, batch.Labels, batch.Mask, generator);
}

/// <summary>What a loss reads beyond the list scores (flags, so a hybrid asks for the union of its parts').</summary>
[Flags]
public enum LossNeeds
{
    None = 0,

    /// <summary>
    /// Scores of each list's user against any catalogue items: <see cref="LossBatch.ScoreItems"/>, with
    /// <see cref="LossBatch.Items"/> and <see cref="LossBatch.ItemCounts"/> for sampling candidates.
    /// </summary>
    Catalogue = 1,

    /// <summary>Tower outputs: <see cref="LossBatch.UserVectors"/> and <see cref="LossBatch.ItemVectors"/>.</summary>
    Embeddings = 2,
}

/// <summary>
/// Everything a loss may read for one batch. Always present: <see cref="Scores"/>, <see cref="Labels"/>,
/// <see cref="Mask"/> [lists, positions]. The rest is filled only when some loss <see cref="IRankingLoss.Needs"/> it.
/// </summary>
public sealed record LossBatch(Tensor Scores, Tensor Labels, Tensor Mask)
{
    /// <summary>Item index of each list position [lists, positions] (long).</summary>
    public Tensor? Items { get; init; }

    /// <summary>
    /// Scores each list's user against catalogue items: <c>null</c> = the whole catalogue in index order
    /// ([lists, items]: user vectors [lists, d] times item vectors [items, d] transposed, the item side once per
    /// batch), or item indices [candidates] (long) giving [lists, candidates].
    /// </summary>
    public Func<Tensor?, Tensor>? ScoreItems { get; init; }

    /// <summary>Train interactions per item [items] (float), for popularity proposals.</summary>
    public Tensor? ItemCounts { get; init; }

    /// <summary>User tower output [lists, d].</summary>
    public Tensor? UserVectors { get; init; }

    /// <summary>Item tower output of each list position [lists, positions, d].</summary>
    public Tensor? ItemVectors { get; init; }

    /// <summary>The field or a clear error naming the loss that asked for it without the trainer supplying it.</summary>
    internal static Tensor Require(Tensor? value, string field, string loss) =>
        value ?? throw new InvalidOperationException($"The {loss} loss needs LossBatch.{field}; declare it in Needs so the trainer supplies it.");
}

/// <summary>The loss to back-propagate and its named parts (each already averaged over lists).</summary>
public sealed record LossOutput(Tensor Total, IReadOnlyDictionary<string, Tensor> Parts);
