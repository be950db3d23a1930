using BenchmarkDotNet.Attributes;
using RankService.Ranking.Losses;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Benchmarks;

/// <summary>Each registered loss, forward and backward, on one fixed batch shaped like ml-100k's: 64 lists × 400 (200 rated + 200 negatives), ragged.</summary>
[MemoryDiagnoser]
public class LossBenchmarks
{
    private Tensor _scores = null!;
    private Tensor _labels = null!;
    private Tensor _mask = null!;
    private Generator _generator = null!;
    private IRankingLoss _loss = null!;

    public static IEnumerable<string> Losses => LossRegistry.Names.Order(StringComparer.Ordinal);

    [ParamsSource(nameof(Losses))]
    public string Loss { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        const int lists = 64, width = 400;
        torch.manual_seed(1);
        var rng = new Random(1);
        var labels = new float[lists * width];
        var mask = new bool[lists * width];
        for (int l = 0; l < lists; l++)
        {
            int rated = rng.Next(20, 201);
            for (int i = 0; i < rated + 200; i++)
            {
                mask[(l * width) + i] = true;
                labels[(l * width) + i] = i < rated ? rng.Next(1, 6) : 0;
            }
        }
        _scores = randn(lists, width).requires_grad_();
        _labels = tensor(labels, [lists, width]);
        _mask = tensor(mask, [lists, width]);
        _generator = new Generator(1);
        _loss = LossRegistry.Create(LossRegistry.Kinds.Single(k => k.Wire() == Loss));
    }

    [Benchmark]
    public float ForwardBackward()
    {
        using var scope = NewDisposeScope();
        _scores.grad?.zero_();
        LossOutput output = _loss.Compute(_scores, _labels, _mask, _generator);
        output.Total.backward();
        return output.Total.item<float>();
    }
}

/// <summary>Graded NDCG@10 over a batch of 64 lists of 400 (float64 scores and labels).</summary>
public class NdcgBenchmarks
{
    private double[][] _scores = null!;
    private double[][] _labels = null!;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _scores = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 400).Select(_ => rng.NextDouble()).ToArray()).ToArray();
        _labels = Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 400).Select(i => i < 100 ? (double)rng.Next(0, 6) : 0).ToArray()).ToArray();
    }

    [Benchmark]
    public double NdcgAt10OverBatch()
    {
        double sum = 0;
        for (int l = 0; l < _scores.Length; l++)
        {
            sum += RankingMetrics.Ndcg(_scores[l], _labels[l], 10);
        }
        return sum;
    }
}

/// <summary>The serving kernel: one user against the catalogue (dot head, dim 64) and the top 10 of the unseen items.</summary>
[MemoryDiagnoser]
public class RankingBenchmarks
{
    private PrecomputedScorer _scorer = null!;
    private float[] _scores = null!;
    private int[] _seen = null!;
    private readonly int[] _top = new int[10];

    /// <summary>ml-100k's catalogue and ml-25m's.</summary>
    [Params(1_682, 59_047)]
    public int Items { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(3);
        using var model = new TwoTowerModel(943, Items, new ModelOptions { EmbeddingDim = 64 });
        _scorer = new PrecomputedScorer(model);
        _scores = new float[Items];
        _seen = Enumerable.Range(0, 150).Select(i => i * (Items / 150)).ToArray();
    }

    [Benchmark]
    public void ScoreCatalogue() => _scorer.ScoreUser(7, _scores);

    [Benchmark]
    public int TopTenOfScores() => TopK.Select(_scores, _seen, 10, _top);

    [Benchmark]
    public int ScoreAndTopTen()
    {
        _scorer.ScoreUser(7, _scores);
        return TopK.Select(_scores, _seen, 10, _top);
    }
}
