using RankService.Ranking.Checkpoints;
using RankService.Ranking.Losses;
using RankService.Ranking.Model;
using RankService.Ranking.Training;
using TorchSharp;
using static RankService.Ranking.Tests.Training.SyntheticTraining;

namespace RankService.Ranking.Tests.Training;

/// <summary>
/// A run owns its random generators: runs side by side in one process, and code that seeds or draws from libtorch's
/// global generator meanwhile, leave its weights bit for bit as they are when it runs alone. The solo run is the
/// reference, never a stored number. xunit runs other test classes (training too) in parallel with these.
/// </summary>
public class ConcurrentDeterminismTests
{
    /// <summary>
    /// Short runs of the configurations whose random draws differ: plain dot, towers with dropout, the MLP head with
    /// dropout. Batches of 64 lists make the item-side gradients large enough (over 32768 elements) that libtorch
    /// would sum them with parallel atomic adds if the model gathered them by advanced indexing.
    /// </summary>
    private static TrainingOptions Config(string name) => name switch
    {
        "dot" => Options() with { Epochs = 2 },
        "dot-towers-dropout" => Options() with { Epochs = 2, BatchSize = 64, HiddenSizes = [24, 16], Dropout = 0.3, Seed = 5 },
        "concat-mlp-dropout" => Options(LossKind.PairwiseLogistic) with { Epochs = 2, BatchSize = 64, Head = ScoringHead.ConcatMlp, HiddenSizes = [24, 8], Dropout = 0.2, Seed = 9 },
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown test configuration"),
    };

    [Theory]
    [InlineData("dot", "dot")]
    [InlineData("dot-towers-dropout", "dot-towers-dropout")]
    [InlineData("concat-mlp-dropout", "dot-towers-dropout")]
    public void Two_runs_started_together_on_two_threads_give_the_weights_each_gives_alone(string first, string second)
    {
        TrainingOptions a = Config(first), b = Config(second);
        string soloA = BestWeightsSha256(a);
        string soloB = first == second ? soloA : BestWeightsSha256(b);

        using var start = new Barrier(2);
        string? togetherA = null, togetherB = null;
        Exception? failure = null;
        var threads = new[]
        {
            new Thread(() => Guard(ref failure, () => { start.SignalAndWait(); togetherA = BestWeightsSha256(a); })),
            new Thread(() => Guard(ref failure, () => { start.SignalAndWait(); togetherB = BestWeightsSha256(b); })),
        };
        foreach (Thread t in threads)
        {
            t.Start();
        }
        foreach (Thread t in threads)
        {
            t.Join();
        }

        Assert.Null(failure);
        Assert.Equal(soloA, togetherA);
        Assert.Equal(soloB, togetherB);
    }

    [Fact]
    public void A_run_with_dropout_is_unchanged_while_another_thread_seeds_and_draws_from_the_global_generator()
    {
        TrainingOptions options = Config("concat-mlp-dropout") with { HiddenSizes = [16], Seed = 13 };
        string solo = BestWeightsSha256(options);

        using var stop = new ManualResetEventSlim();
        int disturbances = 0;
        var disturber = new Thread(() =>
        {
            // Any draw of the run from the global generator would now depend on where this thread left it.
            for (long i = 0; !stop.IsSet; i++)
            {
                torch.random.manual_seed(i);
                using (torch.NewDisposeScope())
                {
                    torch.rand(257).sum().item<float>();
                    torch.random.get_rng_state();
                }
                Interlocked.Increment(ref disturbances);
            }
        });
        disturber.Start();
        string disturbed;
        try
        {
            disturbed = BestWeightsSha256(options);
        }
        finally
        {
            stop.Set();
            disturber.Join();
        }

        Assert.True(disturbances > 0);
        Assert.Equal(solo, disturbed);
    }

    [Fact]
    public void A_model_with_dropout_in_training_and_no_generator_refuses_to_run_and_is_the_identity_in_eval()
    {
        using var model = new TwoTowerModel(4, 6, new ModelOptions { Head = ScoringHead.ConcatMlp, EmbeddingDim = 4, HiddenSizes = [8], Dropout = 0.5 });
        using var scope = torch.NewDisposeScope();
        torch.Tensor users = torch.tensor(new long[] { 0, 3 });
        torch.Tensor items = torch.tensor(new long[] { 1, 2, 5, 0 }, new long[] { 2, 2 });
        model.train();
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => model.forward(users, items));
        Assert.Contains("generator", e.Message, StringComparison.Ordinal);

        using var generator = new torch.Generator(1, torch.CPU);
        model.UseDropoutGenerator(generator);
        float[] masked = model.forward(users, items).data<float>().ToArray();
        model.eval();
        float[] first = model.forward(users, items).data<float>().ToArray();
        float[] second = model.forward(users, items).data<float>().ToArray();
        Assert.Equal(first, second);
        Assert.NotEqual(first, masked); // half the hidden units dropped in training change the scores
    }

    [Fact]
    public void Models_built_from_equal_seeds_are_equal_and_the_seed_decides_every_layer()
    {
        var options = new ModelOptions { Head = ScoringHead.ConcatMlp, EmbeddingDim = 6, HiddenSizes = [8, 4], Dropout = 0.1 };
        using var g1 = new torch.Generator(21, torch.CPU);
        using var g2 = new torch.Generator(21, torch.CPU);
        using var g3 = new torch.Generator(22, torch.CPU);
        using var a = new TwoTowerModel(5, 7, options, init: g1);
        using var b = new TwoTowerModel(5, 7, options, init: g2);
        using var c = new TwoTowerModel(5, 7, options, init: g3);
        var pa = a.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
        var pb = b.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());
        var pc = c.named_parameters().ToDictionary(p => p.name, p => p.parameter.data<float>().ToArray());

        // The state-dict keys of the TorchSharp layers these replace: checkpoints written before still load.
        Assert.Equal(
            ["head_item.weight", "head_rest.2.bias", "head_rest.2.weight", "head_rest.4.bias", "head_rest.4.weight", "head_user.bias", "head_user.weight", "item_bias.weight", "item_embedding.weight", "user_embedding.weight"],
            pa.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, float[] values) in pa)
        {
            Assert.Equal(values, pb[name]);
            if (!name.StartsWith("item_bias", StringComparison.Ordinal))
            {
                Assert.NotEqual(values, pc[name]);
            }
        }
        // PyTorch's Linear default: U(-1/sqrt(in), 1/sqrt(in)); in = 8 for the second hidden layer.
        Assert.All(pa["head_rest.2.weight"], w => Assert.InRange(Math.Abs(w), 0, 1 / Math.Sqrt(8)));
    }

    private static string BestWeightsSha256(TrainingOptions options)
    {
        TrainingResult result = new Trainer(options).Train(SyntheticTraining.Data, TestData.TempFolder());
        return CheckpointStore.ReadVerified(result.BestCheckpoint).Manifest.WeightsSha256;
    }

    private static void Guard(ref Exception? failure, Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Interlocked.CompareExchange(ref failure, e, null);
        }
    }
}
