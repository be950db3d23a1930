using RankService.Ranking.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Model;

public class PrecomputedScorerTests
{
    [Theory]
    [InlineData(ScoringHead.Dot, new int[0], true)]
    [InlineData(ScoringHead.Dot, new int[0], false)]
    [InlineData(ScoringHead.Dot, new[] { 16, 8 }, true)]
    [InlineData(ScoringHead.ConcatMlp, new int[0], true)]
    [InlineData(ScoringHead.ConcatMlp, new[] { 16 }, true)]
    [InlineData(ScoringHead.ConcatMlp, new[] { 16, 8, 4 }, false)]
    public void Precomputed_scores_equal_the_models_forward_pass(ScoringHead head, int[] hidden, bool itemBias)
    {
        torch.manual_seed(3);
        const int users = 9, items = 23;
        using var model = new TwoTowerModel(users, items, new ModelOptions { Head = head, EmbeddingDim = 12, HiddenSizes = hidden, Dropout = 0.2, ItemBias = itemBias });
        using (no_grad())
        {
            // Non-zero biases, so a scorer that forgot them would fail.
            foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                if (name.EndsWith("bias", StringComparison.Ordinal) || name.StartsWith("item_bias", StringComparison.Ordinal))
                {
                    p.uniform_(-0.5, 0.5);
                }
            }
        }
        model.eval();
        float[] forward;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            Tensor userIndex = arange(users, dtype: ScalarType.Int64);
            Tensor itemIndex = arange(items, dtype: ScalarType.Int64).unsqueeze(0).expand(users, items).contiguous();
            forward = model.forward(userIndex, itemIndex).data<float>().ToArray();
        }
        model.train();

        var scorer = new PrecomputedScorer(model);
        Assert.True(model.training); // the scorer leaves the model's mode as it found it
        var scores = new float[items];
        for (int u = 0; u < users; u++)
        {
            scorer.ScoreUser(u, scores);
            for (int i = 0; i < items; i++)
            {
                Assert.Equal(forward[u * items + i], scores[i], 1e-5); // float32 sums in another order
            }
        }
    }

    [Fact]
    public void Precomputed_scorer_outlives_its_model_and_scores_from_many_threads()
    {
        torch.manual_seed(4);
        PrecomputedScorer scorer;
        float[] expected = new float[17];
        using (var model = new TwoTowerModel(5, 17, new ModelOptions { EmbeddingDim = 8 }))
        {
            scorer = new PrecomputedScorer(model);
            using var reference = new ModelScorer(model);
            reference.Score([2], expected);
        }
        Parallel.For(0, 64, _ =>
        {
            var scores = new float[17];
            scorer.ScoreUser(2, scores);
            Assert.Equal(expected, scores, (a, b) => Math.Abs(a - b) < 1e-5f);
        });
    }

    [Fact]
    public void Precomputed_scorer_rejects_an_unknown_user()
    {
        using var model = new TwoTowerModel(3, 4, new ModelOptions { EmbeddingDim = 4 });
        var scorer = new PrecomputedScorer(model);
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.ScoreUser(3, new float[4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => scorer.ScoreUser(0, new float[3]));
    }
}
