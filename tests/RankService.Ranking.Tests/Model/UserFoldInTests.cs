using RankService.Ranking.Losses;
using RankService.Ranking.Model;
using RankService.Ranking.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Model;

public class UserFoldInTests
{
    private const int Users = 7;
    private const int Items = 40;
    private const int Dim = 12;

    /// <summary>12 interactions with ratings, two repeated (the last value counts), on a 40-item catalogue.</summary>
    private static readonly FoldInItem[] Session =
    [
        new(3, 5), new(17, 4), new(8, 1), new(21, 3), new(3, 4), new(30), new(11, 5), new(2, 2), new(39, 4),
        new(25, 5), new(14, 0), new(6, 3), new(17, 5),
    ];

    private static TrainingOptions Training(LossKind loss, SoftmaxReduction reduction = SoftmaxReduction.Mean) => new()
    {
        Loss = loss,
        SoftmaxReduction = reduction,
        NegativesPerList = 15,
        MaxListSize = 9, // fewer than the session's distinct items: the oldest are left out, as in training lists
        WeightDecay = 1e-3,
        Seed = 5,
    };

    /// <summary>A model with non-trivial weights and biases everywhere, drawn from its own generator.</summary>
    private static TwoTowerModel Model(ScoringHead head, int[] hidden)
    {
        using var init = new Generator(11, CPU);
        var model = new TwoTowerModel(Users, Items, new ModelOptions { Head = head, EmbeddingDim = Dim, HiddenSizes = hidden }, init: init);
        using (no_grad())
        {
            foreach ((string name, TorchSharp.Modules.Parameter p) in model.named_parameters())
            {
                if (name.StartsWith("item_embedding", StringComparison.Ordinal))
                {
                    p.mul_(8.ToScalar());
                }
                if (name.EndsWith("bias", StringComparison.Ordinal) || name.StartsWith("item_bias", StringComparison.Ordinal))
                {
                    p.uniform_(-0.5, 0.5, init);
                }
            }
        }
        return model;
    }

    private static double[] RandomEmbedding(int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, Dim).Select(_ => (rng.NextDouble() * 2) - 1)];
    }

    [Theory]
    [InlineData(ScoringHead.Dot, new int[0], LossKind.Softmax, SoftmaxReduction.Mean)]
    [InlineData(ScoringHead.Dot, new int[0], LossKind.Softmax, SoftmaxReduction.Sum)]
    [InlineData(ScoringHead.Dot, new[] { 24, 16 }, LossKind.Softmax, SoftmaxReduction.Mean)]
    [InlineData(ScoringHead.Dot, new int[0], LossKind.ListMle, SoftmaxReduction.Mean)]
    [InlineData(ScoringHead.Dot, new[] { 24, 16 }, LossKind.ListNet, SoftmaxReduction.Mean)]
    [InlineData(ScoringHead.ConcatMlp, new int[0], LossKind.Softmax, SoftmaxReduction.Mean)]
    [InlineData(ScoringHead.ConcatMlp, new[] { 32, 16 }, LossKind.ListMle, SoftmaxReduction.Mean)]
    [InlineData(ScoringHead.ConcatMlp, new[] { 32 }, LossKind.ListNet, SoftmaxReduction.Mean)]
    public void The_gradient_matches_finite_differences_of_a_float64_brute_force_objective(ScoringHead head, int[] hidden, LossKind loss, SoftmaxReduction reduction)
    {
        using TwoTowerModel model = Model(head, hidden);
        var settings = FoldInSettings.FromTraining(Training(loss, reduction), Users, Items, trainingLists: 5);
        var foldIn = new UserFoldIn(model, settings);
        FoldInProblem problem = foldIn.Prepare(Session);
        model.to(ScalarType.Float64);

        foreach (int seed in new[] { 1, 2 })
        {
            double[] e = RandomEmbedding(seed);
            var gradient = new double[Dim];
            double value = foldIn.Objective(problem, e, gradient);
            double reference = BruteForce(model, problem, settings, e);
            Assert.Equal(reference, value, 1e-4 * Math.Max(1, Math.Abs(reference)));

            var numeric = new double[Dim];
            const double h = 1e-5;
            for (int k = 0; k < Dim; k++)
            {
                double[] plus = (double[])e.Clone();
                double[] minus = (double[])e.Clone();
                plus[k] += h;
                minus[k] -= h;
                numeric[k] = (BruteForce(model, problem, settings, plus) - BruteForce(model, problem, settings, minus)) / (2 * h);
            }
            double scale = numeric.Max(Math.Abs);
            Assert.True(scale > 1e-3, $"a vanishing gradient ({scale}) tests nothing");
            for (int k = 0; k < Dim; k++)
            {
                Assert.True(Math.Abs(gradient[k] - numeric[k]) <= (1e-3 * scale) + 1e-5,
                    $"{head} {loss}: ∂J/∂e[{k}] = {gradient[k]:G6}, finite differences {numeric[k]:G6}");
            }
        }
    }

    [Theory]
    [InlineData(ScoringHead.Dot, LossKind.Softmax)]
    [InlineData(ScoringHead.Dot, LossKind.ListNet)]
    [InlineData(ScoringHead.ConcatMlp, LossKind.Softmax)]
    [InlineData(ScoringHead.ConcatMlp, LossKind.ListNet)]
    public void The_general_path_through_the_losses_own_code_gives_the_closed_forms_objective_and_gradient(ScoringHead head, LossKind loss)
    {
        using TwoTowerModel model = Model(head, []);
        var settings = FoldInSettings.FromTraining(Training(loss), Users, Items);
        var closed = new UserFoldIn(model, settings);
        var general = new UserFoldIn(model, settings with { GeneralPath = true });
        FoldInProblem problem = closed.Prepare(Session);
        double[] e = RandomEmbedding(3);
        var a = new double[Dim];
        var b = new double[Dim];
        double closedValue = closed.Objective(problem, e, a);
        double generalValue = general.Objective(general.Prepare(Session), e, b);

        Assert.Equal(closedValue, generalValue, 1e-4 * Math.Max(1, Math.Abs(closedValue)));
        double scale = a.Max(Math.Abs);
        for (int k = 0; k < Dim; k++)
        {
            Assert.True(Math.Abs(a[k] - b[k]) <= 1e-3 * scale, $"{head} {loss}: closed form {a[k]:G6}, general {b[k]:G6}");
        }
    }

    [Theory]
    [InlineData(LossKind.PairwiseLogistic)]
    [InlineData(LossKind.ApproxNdcg)]
    public void A_loss_without_a_closed_form_gets_a_gradient_that_matches_finite_differences_of_its_own_objective(LossKind loss)
    {
        using TwoTowerModel model = Model(ScoringHead.Dot, []);
        var foldIn = new UserFoldIn(model, FoldInSettings.FromTraining(Training(loss), Users, Items));
        FoldInProblem problem = foldIn.Prepare(Session);
        double[] e = RandomEmbedding(4);
        var gradient = new double[Dim];
        foldIn.Objective(problem, e, gradient);
        // The loss runs in float32 here, so the step is large and the tolerance loose; the pairs are fixed per call.
        const double h = 1e-2;
        double scale = gradient.Max(Math.Abs);
        for (int k = 0; k < Dim; k++)
        {
            double[] plus = (double[])e.Clone();
            double[] minus = (double[])e.Clone();
            plus[k] += h;
            minus[k] -= h;
            double numeric = (foldIn.Objective(problem, plus, null) - foldIn.Objective(problem, minus, null)) / (2 * h);
            Assert.True(Math.Abs(gradient[k] - numeric) <= 0.03 * scale, $"{loss}: ∂J/∂e[{k}] = {gradient[k]:G6}, finite differences {numeric:G6}");
        }
    }

    [Theory]
    [InlineData(ScoringHead.Dot, LossKind.Softmax)]
    [InlineData(ScoringHead.ConcatMlp, LossKind.ListMle)]
    [InlineData(ScoringHead.Dot, LossKind.PairwiseLogistic)]
    [InlineData(ScoringHead.Dot, LossKind.LambdaLoss)]
    [InlineData(ScoringHead.Dot, LossKind.Triplet)]
    public void The_same_items_fold_into_the_same_vector_from_many_threads_at_once(ScoringHead head, LossKind loss)
    {
        using TwoTowerModel model = Model(head, [16]);
        UserFoldIn foldIn = UserFoldIn.FromTraining(model, Training(loss));
        FoldInResult first = foldIn.Fold(Session);
        var results = new FoldInResult[16];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n => results[n] = foldIn.Fold(Session));

        Assert.All(results, r => Assert.Equal(first.UserVector, r.UserVector));
        Assert.All(results, r => Assert.Equal(first.Embedding, r.Embedding));
        Assert.Equal(foldIn.Width, first.UserVector.Length);
        Assert.Equal(Dim, first.Embedding.Length);
    }

    [Theory]
    [InlineData(ScoringHead.Dot, LossKind.Softmax)]
    [InlineData(ScoringHead.ConcatMlp, LossKind.Softmax)]
    [InlineData(ScoringHead.Dot, LossKind.ListMle)]
    public void The_solver_ends_at_a_local_minimum_below_its_start(ScoringHead head, LossKind loss)
    {
        using TwoTowerModel model = Model(head, []);
        UserFoldIn foldIn = UserFoldIn.FromTraining(model, Training(loss), trainingLists: 5);
        FoldInResult result = foldIn.Fold(Session);
        FoldInProblem problem = foldIn.Prepare(Session);
        double[] end = [.. result.Embedding.Select(v => (double)v)];
        var gradient = new double[Dim];
        double atEnd = foldIn.Objective(problem, end, gradient);
        double atStart = foldIn.Objective(problem, new double[Dim], null);

        Assert.True(atEnd < atStart, $"objective {atEnd} at the end, {atStart} at zero");
        Assert.Equal(result.Objective, atEnd, 1e-4);
        if (head == ScoringHead.Dot)
        {
            Assert.True(gradient.Max(Math.Abs) < 1e-3, $"gradient {gradient.Max(Math.Abs)} at the end");
        }
        // The concat-mlp head is piecewise smooth (ReLU), so its minimum may sit on a kink: no step along any axis helps.
        for (int k = 0; k < Dim; k++)
        {
            foreach (double step in new[] { -1e-2, 1e-2 })
            {
                double[] moved = (double[])end.Clone();
                moved[k] += step;
                double there = foldIn.Objective(problem, moved, null);
                Assert.True(there >= atEnd - 1e-6, $"a step of {step} along e[{k}] lowers the objective from {atEnd} to {there}");
            }
        }
    }

    [Theory]
    [InlineData(ScoringHead.Dot)]
    [InlineData(ScoringHead.ConcatMlp)]
    public void The_folded_in_vector_scored_by_the_precomputed_scorer_gives_the_models_scores_for_that_user(ScoringHead head)
    {
        using TwoTowerModel model = Model(head, [16]);
        UserFoldIn foldIn = UserFoldIn.FromTraining(model, Training(LossKind.Softmax));
        FoldInResult result = foldIn.Fold(Session);
        var scores = new float[Items];
        new PrecomputedScorer(model).ScoreVector(result.UserVector, scores);

        using var scope = NewDisposeScope();
        using var mode = no_grad();
        model.eval();
        Tensor all = arange(Items, dtype: ScalarType.Int64);
        // The model's own path from the solved embedding: its user side, then its head.
        Tensor user = tensor(result.Embedding, [1, Dim]);
        foreach ((float[] w, float[] b, int inputs, int outputs, bool relu) in model.UserSideLayers())
        {
            user = user.matmul(tensor(w, [outputs, inputs]).t()).add(tensor(b), Scalars.One);
            user = relu ? user.relu() : user;
        }
        float[] expected = model.Combine(user, model.ItemVectors(all), model.ItemBiases(all).unsqueeze(0)).data<float>().ToArray();
        for (int i = 0; i < Items; i++)
        {
            Assert.Equal(expected[i], scores[i], 1e-4);
        }
    }

    [Fact]
    public void Bad_sessions_are_refused_with_the_reason()
    {
        using TwoTowerModel model = Model(ScoringHead.Dot, []);
        UserFoldIn foldIn = UserFoldIn.FromTraining(model, Training(LossKind.Softmax));
        Assert.Throws<ArgumentException>(() => foldIn.Fold([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => foldIn.Fold([new FoldInItem(Items)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => foldIn.Fold([new FoldInItem(-1)]));
        Assert.Throws<ArgumentException>(() => foldIn.Fold([new FoldInItem(1, float.NaN)]));
    }

    [Fact]
    public void The_penalty_is_the_weight_decay_times_the_lists_each_row_decays_over()
    {
        var dense = FoldInSettings.FromTraining(new TrainingOptions { WeightDecay = 1e-4, BatchSize = 64 }, 943, 1682, trainingLists: 849);
        var lazy = FoldInSettings.FromTraining(new TrainingOptions { WeightDecay = 1e-4, BatchSize = 64, EmbeddingUpdates = EmbeddingUpdateMode.Lazy }, 943, 1682, 849);
        Assert.Equal(1e-4 * 849, dense.L2, 1e-12);
        Assert.Equal(1e-4 * 64, lazy.L2, 1e-12);
        Assert.Equal(1e-4 * 943, FoldInSettings.FromTraining(new TrainingOptions { WeightDecay = 1e-4 }, 943, 1682).L2, 1e-12);
    }

    /// <summary>J(e) from the definitions, in float64: scores from the model's own modules, the loss by its formula.</summary>
    private static double BruteForce(TwoTowerModel model64, FoldInProblem p, FoldInSettings settings, double[] e)
    {
        double[] s;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            TorchSharp.Modules.Parameter table = model64.named_parameters().Single(n => n.name == "user_embedding.weight").parameter;
            table[0].copy_(tensor(e, dtype: ScalarType.Float64));
            model64.eval();
            s = model64.forward(tensor(new long[] { 0 }), arange(Items, dtype: ScalarType.Int64).unsqueeze(0)).data<double>().ToArray();
        }
        double loss = 0;
        switch (settings.Loss)
        {
            case LossKind.Softmax:
                double lse = LogSumExp(s);
                loss = p.Positives.Sum(i => p.Weight * (lse - s[i]));
                break;
            case LossKind.ListMle:
                foreach (int[] list in p.Lists)
                {
                    for (int i = 0; i < list.Length; i++)
                    {
                        loss += (LogSumExp(list[i..].Select(j => s[j]).ToArray()) - s[list[i]]) / p.Lists.Length;
                    }
                }
                break;
            case LossKind.ListNet:
                for (int r = 0; r < p.Lists.Length; r++)
                {
                    double[] scores = [.. p.Lists[r].Select(j => s[j])];
                    double[] labels = [.. p.ListLabels[r].Select(v => (double)v)];
                    double scoreLse = LogSumExp(scores);
                    double labelLse = LogSumExp(labels);
                    for (int i = 0; i < scores.Length; i++)
                    {
                        loss -= Math.Exp(labels[i] - labelLse) * (scores[i] - scoreLse) / p.Lists.Length;
                    }
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(settings));
        }
        return loss + (0.5 * settings.L2 * e.Sum(v => v * v));
    }

    private static double LogSumExp(double[] values)
    {
        double max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }
}
