using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace RankService.Ranking.Model;

/// <summary>
/// y = x Wᵀ + b, as <c>torch.nn.Linear</c>: the same state-dict keys (<c>weight</c> [out, in], <c>bias</c> [out]) and
/// PyTorch's default initialisation, W and b ~ U(-1/√in, 1/√in), but drawn from the caller's generator.
/// TorchSharp's <c>Linear</c> draws its initial weights from libtorch's process-global generator, which every
/// training in the process shares, so two runs side by side would change each other's models.
/// </summary>
public sealed class LinearLayer : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public LinearLayer(long inputs, long outputs, Generator generator, bool hasBias = true) : base(nameof(LinearLayer))
    {
        ArgumentNullException.ThrowIfNull(generator);
        // kaiming_uniform_(a = √5) in PyTorch's Linear.reset_parameters works out to this bound, as does its bias init.
        double bound = 1 / Math.Sqrt(inputs);
        using (no_grad())
        {
            // Tensor.uniform_ honours the generator; TorchSharp 0.107's nn.init.uniform_ ignores it (global draw).
            weight = new Parameter(empty(outputs, inputs).uniform_(-bound, bound, generator));
            bias = hasBias ? new Parameter(empty(outputs).uniform_(-bound, bound, generator)) : null;
        }
        RegisterComponents();
    }

    public Parameter Weight => weight;

    public Parameter? Bias => bias;

    public override Tensor forward(Tensor input) => functional.linear(input, weight, bias);
}
