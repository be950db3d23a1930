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

    [Fact]
    public void A_saved_and_loaded_state_continues_with_the_same_steps_as_the_original()
    {
        double[] start = [0.5, -1.5, 2.0, 0.1];
        Tensor target = tensor(new double[] { 1, 2, -3, 0 }, dtype: ScalarType.Float64);
        var original = new Parameter(tensor(start, dtype: ScalarType.Float64));
        using var adam = new AdamOptimizer([original], lr: 0.05, weightDecay: 1e-2);
        void Step(AdamOptimizer optimizer, Parameter p)
        {
            optimizer.ZeroGrad();
            (p - target).pow(2).sum().backward();
            optimizer.Step();
        }
        for (int step = 0; step < 10; step++)
        {
            Step(adam, original);
        }
        using var saved = new MemoryStream();
        adam.Save(saved);

        var copy = new Parameter(original.detach().clone());
        using var resumed = new AdamOptimizer([copy], lr: 0.05, weightDecay: 1e-2);
        saved.Position = 0;
        resumed.Load(saved);
        Assert.Equal(10, resumed.Steps);
        for (int step = 0; step < 10; step++)
        {
            Step(adam, original);
            Step(resumed, copy);
        }
        Assert.Equal(original.data<double>().ToArray(), copy.data<double>().ToArray());

        // A state saved for other parameters is refused and changes nothing.
        var fresh = new Parameter(tensor(start, dtype: ScalarType.Float64));
        using var other = new AdamOptimizer([fresh, new Parameter(zeros(2, dtype: ScalarType.Float64))], lr: 0.05, weightDecay: 1e-2);
        saved.Position = 0;
        Assert.Throws<InvalidDataException>(() => other.Load(saved));
        Assert.Equal(0, other.Steps);
    }

    [Fact]
    public void Saving_and_loading_the_state_survives_garbage_collections_running_alongside()
    {
        // The state round-trips exactly while collections run. The crash the dispose scopes in Save and Load fixed (a
        // finalized intermediate read by the next native call) needs optimised code, which this Debug build is not:
        // bench/gc-stress.sh runs the same loop in Release (before the fix: exit 139 in every run).
        using var model = new RankService.Ranking.Model.TwoTowerModel(943, 1682, new RankService.Ranking.Model.ModelOptions { EmbeddingDim = 64 });
        using var optimizer = new AdamOptimizer(model.parameters(), 1e-3, 1e-2);
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        byte[] first = [];
        for (int i = 0; i < 50; i++)
        {
            using var stream = new MemoryStream();
            optimizer.Save(stream);
            if (i == 0)
            {
                first = stream.ToArray();
            }
            stream.Position = 0;
            optimizer.Load(stream);
        }
        stop.Cancel();
        collector.Join();

        using var last = new MemoryStream();
        optimizer.Save(last);
        Assert.Equal(first, last.ToArray());
    }
}
