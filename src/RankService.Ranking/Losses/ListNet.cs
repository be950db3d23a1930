using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Losses;

/// <summary>
/// ListNet (Cao et al., 2007), top-one probabilities: the cross entropy between the softmax of the labels and the
/// softmax of the scores, both over the list's real items only (padding is excluded from both softmaxes):
/// <code>
///   P_y(i) = exp(y_i) / sum_j exp(y_j),   log P_s(i) = s_i - log sum_j exp(s_j)
///   loss   = - sum_i P_y(i) log P_s(i)
/// </code>
/// Averaged over lists. Shapes: scores, labels, mask [lists, positions]. Stable for any scores: log-softmax via
/// log-sum-exp, padding filled with a very negative finite value. Ties: equal labels get equal target
/// probability, so no order among them is preferred. A list whose labels are all equal (no relevant item, say)
/// has a uniform target; a single item gives 0.
/// </summary>
public sealed class ListNet : IRankingLoss
{
    public const string RegistryName = "listnet";

    public string Name => RegistryName;

    public LossOutput Compute(Tensor scores, Tensor labels, Tensor mask, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        // dimensions: [lists, positions]
        Tensor padding = mask.logical_not();
        Tensor real = mask.to_type(scores.dtype);
        Tensor target = labels.to_type(scores.dtype).masked_fill(padding, Scalars.Padding).softmax(1) * real;
        Tensor logP = scores.masked_fill(padding, Scalars.Padding).log_softmax(1);
        // target is exactly 0 on padding; the product with a finite logP stays 0.
        Tensor loss = (target * logP).sum(1).neg().mean();
        return new LossOutput(loss.MoveToOuterDisposeScope(), new Dictionary<string, Tensor>());
    }
}
