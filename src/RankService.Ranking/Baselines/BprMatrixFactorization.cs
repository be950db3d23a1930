using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace RankService.Ranking.Baselines;

/// <summary>BPR-MF settings; defaults are RecBole's BPR defaults (dim 64, Adam 1e-3, batch 2048, 300 epochs, stop after 10; its xavier-normal initialisation is fixed).</summary>
public sealed record BprOptions
{
    public int EmbeddingDim { get; init; } = 64;
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Adam's coupled L2 weight decay (as torch.optim.Adam's <c>weight_decay</c>).</summary>
    public double WeightDecay { get; init; }

    public int Epochs { get; init; } = 300;

    /// <summary>(user, positive, negative) triples per step.</summary>
    public int BatchSize { get; init; } = 2048;

    /// <summary>Epochs without a better validation NDCG@10 before stopping; 0 = never.</summary>
    public int Patience { get; init; } = 10;

    public int Seed { get; init; } = 42;
}

/// <summary>
/// BPR matrix factorisation (Rendle et al. 2009): score(u, i) = p_u · q_i (ID embeddings, dot product, no bias),
/// trained on every train interaction (u, i) with one negative j drawn uniformly from the items u has not
/// interacted with in train, minimising
/// <code>
///   L = mean over triples of −log σ(score(u, i) − score(u, j))
/// </code>
/// with Adam. Each epoch is evaluated on validation; the weights of the best validation NDCG@10 are kept.
/// </summary>
public static class BprMatrixFactorization
{
    /// <summary>Trains on <paramref name="split"/>; returns the model at its best validation epoch and that epoch.</summary>
    public static (TwoTowerModel Model, int BestEpoch, double BestValidationNdcg) Train(UserSplit split, BprOptions options,
        IProgress<(int Epoch, double Loss, double ValidationNdcg)>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        ArgumentNullException.ThrowIfNull(options);
        var rng = new Random(options.Seed);
        // The run's own generator: libtorch's global one is shared by every training in the process.
        using var generator = new Generator(unchecked((ulong)options.Seed), CPU);
        var model = new TwoTowerModel(split.UserCount, split.ItemCount, new ModelOptions { EmbeddingDim = options.EmbeddingDim, ItemBias = false }, init: generator);
        using (no_grad())
        {
            // RecBole's BPR initialises both tables with xavier_normal_: std = sqrt(2 / (rows + dim)), about 0.045 for
            // ml-100k's users and 0.034 for its items, a third of the two-tower model's N(0, 0.1). Written out, as
            // nn.init.xavier_normal_ takes no generator.
            foreach (Parameter p in model.parameters())
            {
                p.normal_(0, Math.Sqrt(2.0 / (p.shape[0] + p.shape[1])), generator);
            }
        }
        using var optimizer = new AdamOptimizer(model.parameters(), options.LearningRate, options.WeightDecay);

        int[][] seen = split.TrainItems.Select(items => items.Distinct().Order().ToArray()).ToArray();
        var users = new List<int>();
        var positives = new List<int>();
        for (int u = 0; u < seen.Length; u++)
        {
            if (seen[u].Length >= split.ItemCount)
            {
                continue; // no negative exists for this user
            }
            foreach (int i in seen[u])
            {
                users.Add(u);
                positives.Add(i);
            }
        }
        int[] order = Enumerable.Range(0, users.Count).ToArray();
        Tensor[] best;
        using (NewDisposeScope()) // keeps detach()'s results alive while clone() reads them (see AdamOptimizer.Save)
        {
            best = model.parameters().Select(p => p.detach().clone().MoveToOuterDisposeScope()).ToArray();
        }
        double bestScore = double.NegativeInfinity;
        int bestEpoch = 0;
        for (int epoch = 1; epoch <= options.Epochs && !cancellationToken.IsCancellationRequested; epoch++)
        {
            model.train();
            rng.Shuffle(order);
            double total = 0;
            int steps = 0;
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                int count = Math.Min(options.BatchSize, order.Length - start);
                var batchUsers = new long[count];
                var batchItems = new long[count * 2];
                for (int k = 0; k < count; k++)
                {
                    int t = order[start + k];
                    int u = users[t];
                    int j;
                    do
                    {
                        j = rng.Next(split.ItemCount);
                    }
                    while (Array.BinarySearch(seen[u], j) >= 0);
                    batchUsers[k] = u;
                    batchItems[2 * k] = positives[t];
                    batchItems[2 * k + 1] = j;
                }
                using var scope = NewDisposeScope();
                optimizer.ZeroGrad();
                Tensor scores = model.forward(tensor(batchUsers, dtype: ScalarType.Int64),
                    tensor(batchItems, new long[] { count, 2 }, dtype: ScalarType.Int64));
                Tensor diff = scores.select(1, 0).add(scores.select(1, 1).neg(), Losses.Scalars.One); // cached alpha: see Losses/Scalars.cs
                Tensor loss = nn.functional.logsigmoid(diff).mean().neg();
                loss.backward();
                optimizer.Step();
                total += loss.item<float>();
                steps++;
            }

            double ndcg;
            using (var scorer = new ModelScorer(model))
            {
                ndcg = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, [10]).Metrics[MetricNames.Ndcg10];
            }
            progress?.Report((epoch, total / Math.Max(1, steps), ndcg));
            if (ndcg > bestScore)
            {
                bestScore = ndcg;
                bestEpoch = epoch;
                CopyInto(model.parameters().ToArray(), best);
            }
            else if (options.Patience > 0 && epoch - bestEpoch >= options.Patience)
            {
                break;
            }
        }
        using (no_grad())
        {
            Parameter[] parameters = model.parameters().ToArray();
            for (int k = 0; k < parameters.Length; k++)
            {
                parameters[k].copy_(best[k]);
            }
        }
        foreach (Tensor t in best)
        {
            t.Dispose();
        }
        return (model, bestEpoch, bestScore);
    }

    private static void CopyInto(Parameter[] from, Tensor[] to)
    {
        using (no_grad())
        {
            for (int k = 0; k < from.Length; k++)
            {
                to[k].copy_(from[k]);
            }
        }
    }
}
