using RankService.Ranking.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Training;

public class AdamOptimizerTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(1e-2)]
    public void Matches_torch_adam_with_l2_weight_decay_step_for_step(double weightDecay)
    {
        double[] start = [0.5, -1.5, 2.0, 0.1];
        var ours = new Parameter(tensor(start, dtype: ScalarType.Float64));
        var theirs = new Parameter(tensor(start, dtype: ScalarType.Float64));
        using var adam = new AdamOptimizer([ours], lr: 0.05, weightDecay: weightDecay);
        using var reference = optim.Adam([theirs], lr: 0.05, weight_decay: weightDecay);
        Tensor target = tensor(new double[] { 1, 2, -3, 0 }, dtype: ScalarType.Float64);

        for (int step = 0; step < 25; step++)
        {
            adam.ZeroGrad();
            (ours - target).pow(2).sum().backward();
            adam.Step();

            reference.zero_grad();
            (theirs - target).pow(2).sum().backward();
            reference.step();
        }
        double[] a = ours.data<double>().ToArray();
        double[] b = theirs.data<double>().ToArray();
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(b[i], a[i], 10);
        }
        Assert.Equal(25, adam.Steps);
        Assert.NotEqual(start[0], a[0]);
    }
}
