using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RankService.Ranking.Model;

/// <summary>
/// Inverted dropout, as <c>torch.nn.Dropout</c>: in training each element is zeroed with probability p and the rest
/// scaled by 1/(1 - p); in eval it is the identity. The mask comes from <see cref="Generator"/> (the trainer sets
/// the run's per-epoch generator), never from libtorch's process-global one that concurrent runs share. Training
/// without a generator throws rather than silently drawing from the global one. No parameters: nothing in the state dict.
/// </summary>
public sealed class GeneratorDropout : Module<Tensor, Tensor>
{
    private readonly double _keep;
    private readonly Scalar _scale;

    public GeneratorDropout(double p) : base(nameof(GeneratorDropout))
    {
        if (p is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout must lie in [0, 1).");
        }
        P = p;
        _keep = 1 - p;
        _scale = (1 / _keep).ToScalar(); // held here: see Losses/Scalars.cs
    }

    public double P { get; }

    /// <summary>Draws the masks in training; not owned (the trainer disposes it). Must be on the input's device.</summary>
    public Generator? Generator { get; set; }

    public override Tensor forward(Tensor input)
    {
        if (!training || P == 0)
        {
            return input.alias();
        }
        if (Generator is null)
        {
            throw new InvalidOperationException("Dropout in training needs the run's generator (TwoTowerModel.DropoutGenerator); none was set.");
        }
        Tensor mask = empty_like(input).bernoulli_(_keep, Generator).mul_(_scale);
        return input.mul(mask);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scale.Dispose();
        }
        base.Dispose(disposing);
    }
}
