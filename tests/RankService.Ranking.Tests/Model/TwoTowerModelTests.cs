using RankService.Ranking.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Model;

public class TwoTowerModelTests
{
    [Theory]
    [InlineData(ScoringHead.Dot, new int[0])]
    [InlineData(ScoringHead.Dot, new[] { 16, 8 })]
    [InlineData(ScoringHead.ConcatMlp, new[] { 16 })]
    [InlineData(ScoringHead.ConcatMlp, new[] { 16, 8 })]
    public void Catalogue_scorer_gives_the_same_scores_as_the_forward_pass(ScoringHead head, int[] hidden)
    {
        torch.manual_seed(1);
        using var model = new TwoTowerModel(7, 11, new ModelOptions { Head = head, EmbeddingDim = 8, HiddenSizes = hidden, Dropout = 0.3 });
        model.eval();
        using var scope = NewDisposeScope();
        int[] users = [0, 3, 6];
        Tensor items = arange(11, dtype: ScalarType.Int64).unsqueeze(0).expand(3, 11).contiguous();
        float[] forward;
        using (no_grad())
        {
            forward = model.forward(tensor(users.Select(u => (long)u).ToArray()), items).data<float>().ToArray();
        }

        using var scorer = new ModelScorer(model);
        var scores = new float[3 * 11];
        scorer.Score(users, scores);
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(forward[i], scores[i], 5);
        }
    }

    [Fact]
    public void Catalogue_scorer_gives_the_forward_pass_scores_for_batches_growing_and_shrinking()
    {
        torch.manual_seed(4);
        using var model = new TwoTowerModel(9, 13, new ModelOptions { EmbeddingDim = 6 });
        using (no_grad())
        {
            model.named_parameters().Single(p => p.name == "item_bias.weight").parameter.normal_();
        }
        model.eval();
        using var scorer = new ModelScorer(model);
        // The scorer keeps one output tensor: a larger batch replaces it, a smaller one uses its leading rows.
        foreach (int[] users in new[] { new[] { 1, 2 }, new[] { 0, 8, 3, 5, 7 }, new[] { 4 }, new[] { 6, 2, 1 } })
        {
            using var scope = NewDisposeScope();
            Tensor items = arange(13, dtype: ScalarType.Int64).unsqueeze(0).expand(users.Length, 13).contiguous();
            float[] forward;
            using (no_grad())
            {
                forward = model.forward(tensor(users.Select(u => (long)u).ToArray()), items).data<float>().ToArray();
            }
            var scores = new float[users.Length * 13];
            scorer.Score(users, scores);
            for (int i = 0; i < scores.Length; i++)
            {
                Assert.Equal(forward[i], scores[i], 5);
            }
        }
    }

    [Fact]
    public void Concat_head_equals_an_mlp_over_the_concatenated_embeddings()
    {
        torch.manual_seed(2);
        using var model = new TwoTowerModel(3, 4, new ModelOptions { Head = ScoringHead.ConcatMlp, EmbeddingDim = 5, HiddenSizes = [6], ItemBias = false });
        model.eval();
        using var scope = NewDisposeScope();
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Tensor w = cat([p["head_user.weight"], p["head_item.weight"]], 1); // [6, 10]: W = [W_u | W_i]
        Tensor eu = p["user_embedding.weight"][1];
        Tensor ei = p["item_embedding.weight"][2];
        Tensor hidden = nn.functional.relu(w.matmul(cat([eu, ei])) + p["head_user.bias"]);
        Tensor expected = p["head_rest.1.weight"].matmul(hidden) + p["head_rest.1.bias"];
        using (no_grad())
        {
            Tensor actual = model.forward(tensor(new long[] { 1 }), tensor(new long[] { 2 }, new long[] { 1, 1 }));
            Assert.Equal(expected.item<float>(), actual.item<float>(), 5);
        }
    }
}
