using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Losses;

/// <summary>
/// NDCG pieces shared by the NDCG-based losses, with the metric's conventions: gain 2^y - 1, discount
/// 1 / log2(1 + position) for 1-based positions, padding gains 0. Shapes [lists, positions].
/// </summary>
internal static class NdcgTerms
{
    private static readonly Scalar Ln2 = Math.Log(2).ToScalar();

    /// <summary>2^y - 1 on real items, 0 on padding.</summary>
    public static Tensor Gains(Tensor labels, Tensor mask, ScalarType dtype) =>
        (labels.to_type(dtype).clamp_min(Scalars.Zero).mul(Ln2).exp().sub(Scalars.One)) * mask.to_type(dtype);

    /// <summary>1 / log2(1 + p) for p = 1..n, shape [n]; built from a C# array so no scalar crosses into native code.</summary>
    public static Tensor Discounts(long n, ScalarType dtype, Device device) =>
        tensor(Enumerable.Range(1, (int)n).Select(p => 1.0 / Math.Log2(1 + p)).ToArray(), dtype: dtype, device: device);

    /// <summary>Ideal DCG of each list, optionally over the top <paramref name="k"/> positions only. Shape [lists].</summary>
    public static Tensor IdealDcg(Tensor gains, int? k = null)
    {
        long n = gains.shape[1];
        (Tensor sorted, Tensor _) = gains.sort(1, descending: true);
        Tensor discounts = Discounts(n, gains.dtype, gains.device);
        if (k is int top && top < n)
        {
            discounts = discounts * tensor(Enumerable.Range(0, (int)n).Select(p => p < top ? 1.0 : 0.0).ToArray(), dtype: gains.dtype, device: gains.device);
        }
        return (sorted * discounts).sum(1);
    }
}
