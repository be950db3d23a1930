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
        using var init = new Generator(3, CPU); // the test's own generator: never libtorch's global one
        const int users = 9, items = 23;
        using var model = new TwoTowerModel(users, items, new ModelOptions { Head = head, EmbeddingDim = 12, HiddenSizes = hidden, Dropout = 0.2, ItemBias = itemBias }, init: init);
        using (no_grad())
        {
            // Non-zero biases, so a scorer that forgot them would fail.
            foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                if (name.EndsWith("bias", StringComparison.Ordinal) || name.StartsWith("item_bias", StringComparison.Ordinal))
                {
                    p.uniform_(-0.5, 0.5, generator: init);
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

    [Theory]
    [InlineData(77, 12)] // two 32-item tiles, one 8-item tile, a 5-item tail
    [InlineData(32, 64)] // exactly one 32-item tile
    [InlineData(13, 8)]  // one 8-item tile and a tail
    [InlineData(5, 3)]   // tail only
    public void The_dot_heads_scores_are_the_bias_then_one_multiply_and_add_per_dimension_bit_for_bit(int items, int dim)
    {
        const int users = 6;
        using var init = new Generator(5, CPU);
        using var model = new TwoTowerModel(users, items, new ModelOptions { Head = ScoringHead.Dot, EmbeddingDim = dim }, init: init);
        using (no_grad())
        {
            foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                if (name.StartsWith("item_bias", StringComparison.Ordinal))
                {
                    p.uniform_(-0.5, 0.5, generator: init);
                }
            }
        }
        var scorer = new PrecomputedScorer(model);
        var scores = new float[items];
        var item = new float[dim + 1];
        for (int u = 0; u < users; u++)
        {
            scorer.ScoreUser(u, scores);
            float[] user = scorer.UserVector(u).ToArray();
            for (int i = 0; i < items; i++)
            {
                scorer.ItemVectorWithBias(i, item);
                // The documented order, in float32 as the scorer computes it: any SIMD tiling must reproduce it exactly.
                float expected = item[dim];
                double reference = item[dim];
                for (int k = 0; k < dim; k++)
                {
                    expected = (item[k] * user[k]) + expected;
                    reference += (double)item[k] * user[k];
                }
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(scores[i]));
                Assert.Equal(reference, scores[i], 1e-5); // and it is the inner product plus bias
            }
        }
    }

    [Theory]
    [InlineData(ScoringHead.Dot, 37, 12)]   // 37 items: two 16-item tiles and a 5-item tail
    [InlineData(ScoringHead.Dot, 16, 64)]   // exactly one tile
    [InlineData(ScoringHead.Dot, 7, 8)]     // tail only
    [InlineData(ScoringHead.ConcatMlp, 23, 12)]
    public void A_block_of_users_scores_bit_for_bit_as_each_user_alone(ScoringHead head, int items, int dim)
    {
        const int users = 11;
        using var init = new Generator(21, CPU);
        using var model = new TwoTowerModel(users, items, new ModelOptions { Head = head, EmbeddingDim = dim, HiddenSizes = head == ScoringHead.Dot ? [] : [8] }, init: init);
        using (no_grad())
        {
            foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                if (name.StartsWith("item_bias", StringComparison.Ordinal))
                {
                    p.uniform_(-0.5, 0.5, generator: init);
                }
            }
        }
        var scorer = new PrecomputedScorer(model);
        // Every user, a repeated user and an odd block size (4-user blocks plus a remainder).
        int[] block = [3, 0, 10, 3, 5, 1, 9, 2, 8];
        var together = new float[block.Length * items];
        scorer.Score(block, together);

        var alone = new float[items];
        for (int r = 0; r < block.Length; r++)
        {
            scorer.ScoreUser(block[r], alone);
            Assert.Equal(alone, together.AsSpan(r * items, items).ToArray());
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
