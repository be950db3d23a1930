using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Losses;

/// <summary>
/// ListMLE (Xia et al., 2008): the negative log-likelihood of the label order under the Plackett-Luce model.
/// For one list sorted by label descending (ties in random order), with scores s_1..s_n in that order:
/// <code>
///   loss = sum_{i=1..n} ( log sum_{j=i..n} exp(s_j)  -  s_i )  =  -log P_PL(order | s)
/// </code>
/// Summed over the positions of a list and averaged over lists. Padding is excluded from every sum.
/// Vectorised: random permutation then stable sort for random tie order, reverse log-cumulative-sum-exp.
/// Ties: items with equal labels are ordered at random on every call, so in expectation the loss does not
/// prefer any order among them.
/// </summary>
public sealed class ListMle : IRankingLoss
{
    public const string RegistryName = "listmle";

    public string Name => RegistryName;

    public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        // dimensions: [lists, positions]
        Tensor order = RandomTieOrder(labels, mask, generator);
        Tensor sortedScores = scores.gather(1, order);
        Tensor sortedMask = mask.gather(1, order);

        // Padding goes last after the sort; a very negative finite value keeps exp() at 0 without -inf - -inf NaNs.
        Tensor masked = sortedScores.masked_fill(sortedMask.logical_not(), Scalars.Padding);
        Tensor suffixLogSumExp = masked.flip(1).logcumsumexp(1).flip(1);
        Tensor perPosition = (suffixLogSumExp - masked) * sortedMask.to_type(scores.dtype);
        Tensor loss = perPosition.sum(1).mean();
        return new LossOutput(loss.MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
    }

    /// <summary>
    /// Indices that sort each list by label descending, padding last, equal labels in random order:
    /// shuffle positions, then a stable sort by label.
    /// </summary>
    internal static Tensor RandomTieOrder(Tensor labels, Tensor mask, Generator? generator)
    {
        using var scope = NewDisposeScope();
        Tensor shuffle = rand(labels.shape, dtype: ScalarType.Float32, device: labels.device, generator: generator)
            .argsort(1);
        Tensor shuffledLabels = labels.gather(1, shuffle)
            .masked_fill(mask.gather(1, shuffle).logical_not(), Scalars.NegativeInfinity);
        (Tensor _, Tensor byLabel) = shuffledLabels.sort(1, descending: true, stable: true);
        return shuffle.gather(1, byLabel).MoveToOuterDisposeScope();
    }
}
