using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Losses;

/// <summary>
/// A listwise ranking loss. Every loss takes the same arguments so the trainer never branches on the loss.
/// Shapes: <c>scores</c> [lists, positions] (float), <c>labels</c> [lists, positions] (graded relevance, 0 = not
/// relevant), <c>mask</c> [lists, positions] (bool, true = real item, false = padding). Padding may sit anywhere.
/// </summary>
public interface IRankingLoss
{
    /// <summary>The registry name, e.g. <c>listmle</c>.</summary>
    string Name { get; }

    /// <summary>
    /// The scalar loss to minimise, averaged over lists, and its named parts for logging (a single-part loss
    /// reports itself under its own name). <paramref name="generator"/> drives any randomness (tie shuffling,
    /// pair sampling) so runs are reproducible.
    /// </summary>
    LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null);
}

/// <summary>The loss to back-propagate and its named parts (each already averaged over lists).</summary>
public sealed record LossOutput(Tensor Total, IReadOnlyDictionary<string, Tensor> Parts);
