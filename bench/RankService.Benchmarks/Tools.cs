using System.Diagnostics;
using System.Globalization;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Metrics;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Benchmarks;

/// <summary>
/// Command-line tools the bench scripts call. Each prints human lines and one <c>RESULT key=value ...</c> line per
/// measurement, which the scripts parse.
/// </summary>
internal static class Tools
{
    /// <summary><c>synth --out DIR [--users N --items N --ratings N --seed N]</c>: an ml-25m-shaped CSV release by default.</summary>
    public static int Synth(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        SyntheticScaleOptions o = SyntheticScaleOptions.Ml25m;
        o = o with
        {
            Users = Int(a, "users", o.Users),
            Items = Int(a, "items", o.Items),
            Ratings = long.Parse(a.GetValueOrDefault("ratings", o.Ratings.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
            Seed = Int(a, "seed", o.Seed),
        };
        string folder = a.GetValueOrDefault("out") ?? throw new ArgumentException("--out DIR is required");
        var clock = Stopwatch.StartNew();
        SyntheticScale.Write(o, folder);
        Console.WriteLine(Invariant($"RESULT seconds={clock.Elapsed.TotalSeconds:F1} users={o.Users} items={o.Items} ratings={o.Ratings} folder={folder}"));
        return 0;
    }

    /// <summary><c>load --data DIR</c>: load the files, index ids, split and build the batcher's index; seconds per step and peak RSS.</summary>
    public static int Load(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        string folder = a.GetValueOrDefault("data") ?? throw new ArgumentException("--data DIR is required");
        var clock = Stopwatch.StartNew();
        RatingDataset data = MovieLensLoader.Load(folder);
        double load = clock.Elapsed.TotalSeconds;
        LeaveLastOutSplit split = TemporalSplit.LeaveLastOut(data);
        double splitSeconds = clock.Elapsed.TotalSeconds - load;
        var batcher = new ListBatcher(split, 200, 200, 64);
        double total = clock.Elapsed.TotalSeconds;
        Console.WriteLine(Invariant($"{data.UserCount} users, {data.ItemCount} items, {data.Ratings.Length} ratings, {batcher.BatchCount} batches"));
        Console.WriteLine(Invariant($"RESULT load_s={load:F2} split_s={splitSeconds:F2} index_s={total - load - splitSeconds:F2} total_s={total:F2} peak_rss_mb={PeakRssMb():F0} users={data.UserCount} items={data.ItemCount} ratings={data.Ratings.Length}"));
        GC.KeepAlive(batcher);
        return 0;
    }

    /// <summary>
    /// <c>epoch --data DIR [--epochs 5 --negatives 200 --batch-size 64 --threads 0 --eval true]</c>: ListMLE epochs that
    /// time separately the batcher (building the padded lists: data preparation) and the tensor work (copying the
    /// batch into tensors, forward, loss, backward, clipping, Adam), the same steps as <see cref="Trainer"/>; then the
    /// full-catalogue validation. One RESULT line per epoch.
    /// </summary>
    public static int Epoch(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        string folder = a.GetValueOrDefault("data") ?? throw new ArgumentException("--data DIR is required");
        int epochs = Int(a, "epochs", 5);
        bool evaluate = a.GetValueOrDefault("eval", "true") == "true";
        var o = new TrainingOptions
        {
            NegativesPerList = Int(a, "negatives", 200),
            BatchSize = Int(a, "batch-size", 64),
            Threads = Int(a, "threads", 0),
            Device = "cpu",
        };
        if (o.Threads > 0)
        {
            torch.set_num_threads(o.Threads);
        }
        RatingDataset data = MovieLensLoader.Load(folder);
        LeaveLastOutSplit split = TemporalSplit.LeaveLastOut(data);
        var batcher = new ListBatcher(split, o.MaxListSize, o.NegativesPerList, o.BatchSize);
        IRankingLoss loss = LossRegistry.Create(o.Loss, o.ToLossOptions());
        torch.manual_seed(o.Seed);
        var rng = new Random(o.Seed);
        using var generator = new Generator((ulong)o.Seed);
        using var model = new TwoTowerModel(data.UserCount, data.ItemCount, o.ToModelOptions());
        using var optimizer = new AdamOptimizer(model.parameters(), o.LearningRate, o.WeightDecay);
        Console.WriteLine(Invariant($"{data.UserCount} users, {data.ItemCount} items, {batcher.BatchCount} batches of {o.BatchSize}, {o.NegativesPerList} negatives, torch threads {torch.get_num_threads()}"));

        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            model.train();
            double prep = 0, work = 0;
            long scored = 0, slots = 0;
            double lossSum = 0;
            using IEnumerator<ListBatch> batches = batcher.Epoch(rng).GetEnumerator();
            while (true)
            {
                long t0 = Stopwatch.GetTimestamp();
                if (!batches.MoveNext())
                {
                    break;
                }
                ListBatch batch = batches.Current;
                long t1 = Stopwatch.GetTimestamp();
                using (var scope = NewDisposeScope())
                {
                    long rows = batch.Users.Length;
                    var userIds = new long[rows];
                    for (int i = 0; i < rows; i++)
                    {
                        userIds[i] = batch.Users[i];
                    }
                    Tensor users = tensor(userIds, dtype: ScalarType.Int64);
                    Tensor items = tensor(batch.Items, [rows, batch.Width], dtype: ScalarType.Int64);
                    Tensor labels = tensor(batch.Labels, [rows, batch.Width]);
                    Tensor mask = tensor(batch.Mask, [rows, batch.Width]);
                    optimizer.ZeroGrad();
                    LossOutput output = loss.Compute(model.forward(users, items), labels, mask, generator);
                    lossSum += output.Total.item<float>();
                    output.Total.backward();
                    nn.utils.clip_grad_norm_(model.parameters(), o.GradientClipNorm);
                    optimizer.Step();
                }
                long t2 = Stopwatch.GetTimestamp();
                prep += Stopwatch.GetElapsedTime(t0, t1).TotalSeconds;
                work += Stopwatch.GetElapsedTime(t1, t2).TotalSeconds;
                slots += batch.Mask.Length;
                foreach (bool m in batch.Mask)
                {
                    scored += m ? 1 : 0;
                }
            }
            double eval = 0;
            string ndcg = "";
            if (evaluate)
            {
                var clock = Stopwatch.StartNew();
                using var scorer = new ModelScorer(model);
                EvaluationResult result = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, Trainer.Ks);
                eval = clock.Elapsed.TotalSeconds;
                ndcg = Invariant($" val_ndcg10={result.Metrics["NDCG@10"]:F4}");
            }
            double train = prep + work;
            Console.WriteLine(Invariant(
                $"RESULT epoch={epoch} train_s={train:F3} prep_s={prep:F3} tensor_s={work:F3} prep_share={prep / train:F3} eval_s={eval:F3} items_per_s={scored / train:F0} scored={scored} padded={slots} loss={lossSum / batcher.BatchCount:F4} peak_rss_mb={PeakRssMb():F0}{ndcg}"));
        }
        return 0;
    }

    /// <summary><c>eval --data DIR [--repeats 5]</c>: full-catalogue validation of every user with an untrained dim-64 model (the cost does not depend on the weights).</summary>
    public static int Eval(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        string folder = a.GetValueOrDefault("data") ?? throw new ArgumentException("--data DIR is required");
        RatingDataset data = MovieLensLoader.Load(folder);
        LeaveLastOutSplit split = TemporalSplit.LeaveLastOut(data);
        torch.manual_seed(1);
        using var model = new TwoTowerModel(data.UserCount, data.ItemCount, new ModelOptions());
        for (int r = 1; r <= Int(a, "repeats", 5); r++)
        {
            var clock = Stopwatch.StartNew();
            using var scorer = new ModelScorer(model);
            EvaluationResult result = FullCatalogueEvaluator.Evaluate(scorer, split, EvaluationTarget.Validation, Trainer.Ks);
            double torchSeconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            EvaluationResult fast = FullCatalogueEvaluator.Evaluate(new PrecomputedScorer(model), split, EvaluationTarget.Validation, Trainer.Ks);
            Console.WriteLine(Invariant($"RESULT run={r} users={result.Users} items={data.ItemCount} model_scorer_s={torchSeconds:F3} precomputed_scorer_s={clock.Elapsed.TotalSeconds:F3} same_ndcg={Math.Abs(result.Metrics["NDCG@10"] - fast.Metrics["NDCG@10"]) < 1e-9}"));
        }
        return 0;
    }

    private static double PeakRssMb()
    {
        // VmHWM: the peak resident set of this process, what /usr/bin/time -v reports as maximum resident set size.
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? double.NaN : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"Expected --name value, got '{args[i]}'.");
            }
            result[args[i][2..]] = args[i + 1];
        }
        return result;
    }

    private static int Int(Dictionary<string, string> a, string name, int fallback) =>
        a.TryGetValue(name, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static string Invariant(FormattableString s) => FormattableString.Invariant(s);
}
