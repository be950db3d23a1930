using TorchSharp;

namespace RankService.Ranking.Losses;

/// <summary>
/// Long-lived TorchSharp scalars for the hot paths. TorchSharp 0.107 turns a C# number passed to a tensor op
/// into a <see cref="Scalar"/> that only the GC finalizer frees; the finalizer can free it while the native op
/// still reads it (seen here as a rare "Expected false to be true ... toFloat" crash in masked_fill mid-training;
/// dotnet/TorchSharp#1434). Scalars held in static or instance fields stay reachable, so that race cannot happen.
/// </summary>
internal static class Scalars
{
    public static readonly Scalar Zero = 0.0.ToScalar();
    public static readonly Scalar One = 1.0.ToScalar();
    public static readonly Scalar Two = 2.0.ToScalar();

    /// <summary>Integer start and step for <c>arange</c>, as the <c>arange(stop)</c> overload would pass them.</summary>
    public static readonly Scalar IntZero = 0.ToScalar();
    public static readonly Scalar IntOne = 1.ToScalar();
    /// <summary>Below every item id (SoftmaxLoss's accidental-hit lookup).</summary>
    public static readonly Scalar IntMinusOne = (-1).ToScalar();
    /// <summary>Guards a division by a sum that is 0 only when the numerator is masked to 0 anyway.</summary>
    public static readonly Scalar Tiny = 1e-12.ToScalar();
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>Very negative but finite: exp() gives 0 without the NaN of -inf minus -inf.</summary>
    public static readonly Scalar Padding = (-1e30).ToScalar();
}
