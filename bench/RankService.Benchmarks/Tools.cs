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
    /// <c>epoch --data DIR [--epochs 2 --negatives 200 --batch-size 64 --max-list 200 --threads 0 --every 30]</c>: ListMLE
    /// epochs run by the real <see cref="Trainer"/> (validation, checkpoints and resume state included) with a
    /// <see cref="TrainingProfile"/>. Prints a progress line every <c>--every</c> seconds (batches done, seconds per
    /// phase so far) and one RESULT line per epoch: train_s is the batches (prep_s + tensor_s), prep_s the
    /// batcher building the padded lists, then each tensor phase, validation, checkpoint and resume-state seconds.
    /// </summary>
    public static int Epoch(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        string folder = a.GetValueOrDefault("data") ?? throw new ArgumentException("--data DIR is required");
        var o = new TrainingOptions
        {
            Loss = LossKind.ListMle,
            Epochs = Int(a, "epochs", 2),
            NegativesPerList = Int(a, "negatives", 200),
            BatchSize = Int(a, "batch-size", 64),
            MaxListSize = Int(a, "max-list", 200),
            Threads = Int(a, "threads", 0),
            Patience = 0,
            Device = TrainingDevice.Cpu,
        };
        double every = Int(a, "every", 30);
        TorchThreads.UseForProcess(o.Threads); // process-wide; the trainer never sets it
        var clock = Stopwatch.StartNew();
        RatingDataset data = MovieLensLoader.Load(folder);
        Console.WriteLine(Invariant($"loaded {data.UserCount} users, {data.ItemCount} items, {data.Ratings.Length} ratings in {clock.Elapsed.TotalSeconds:F1} s; torch threads {torch.get_num_threads()}"));
        string run = Path.Combine(Path.GetTempPath(), "rankservice-epoch-" + Guid.NewGuid().ToString("N"));
        double lastPrint = 0;
        IReadOnlyDictionary<string, double> epochStart = new Dictionary<string, double>();
        string[] batchPhases = ["prep", "tensors", "zero_grad", "forward", "backward", "clip", "step"];
        string Phases(IReadOnlyDictionary<string, double> now, IReadOnlyDictionary<string, double> since, params string[] names) =>
            string.Join(' ', names.Select(n => Invariant($"{n}_s={now[n] - since.GetValueOrDefault(n):F3}")));
        var profile = new TrainingProfile
        {
            BatchDone = p =>
            {
                if (clock.Elapsed.TotalSeconds - lastPrint < every)
                {
                    return;
                }
                lastPrint = clock.Elapsed.TotalSeconds;
                Console.WriteLine(Invariant($"epoch {p.Epoch}: {p.EpochBatches}/{p.BatchesPerEpoch} batches at {lastPrint:F0} s; ") +
                    Phases(p.Snapshot(), epochStart, batchPhases));
            },
            PhaseDone = (p, phase) =>
            {
                IReadOnlyDictionary<string, double> now = p.Snapshot();
                Console.WriteLine(Invariant($"epoch {p.Epoch}: {phase} done at {clock.Elapsed.TotalSeconds:F0} s ({now[phase] - epochStart.GetValueOrDefault(phase):F1} s)"));
                if (phase != "resume")
                {
                    return;
                }
                double train = batchPhases.Sum(n => now[n] - epochStart.GetValueOrDefault(n));
                double prep = now["prep"] - epochStart.GetValueOrDefault("prep");
                Console.WriteLine(Invariant(
                    $"RESULT epoch={p.Epoch} train_s={train:F3} tensor_s={train - prep:F3} prep_share={prep / train:F3} items_per_s={p.EpochScored / train:F0} ") +
                    Phases(now, epochStart, [.. batchPhases, "validation", "checkpoint", "resume"]).Replace("validation_s", "eval_s", StringComparison.Ordinal) +
                    Invariant($" scored={p.EpochScored} padded={p.EpochSlots} batches={p.EpochBatches} peak_rss_mb={PeakRssMb():F0}"));
                epochStart = now;
            },
        };
        try
        {
            TrainingResult result = new Trainer(o) { Profile = profile, Log = Console.WriteLine }.Train(data, run);
            IReadOnlyDictionary<string, double> end = profile.Snapshot();
            Console.WriteLine(Invariant($"RESULT final setup_s={end["setup"]:F3} test_s={end["test"]:F3} baseline_s={end["baseline"]:F3} total_s={clock.Elapsed.TotalSeconds:F1} ") +
                Invariant($"val_ndcg10={result.BestValidation.GetValueOrDefault(Trainer.SelectionMetric):F4} test_ndcg10={result.Test.GetValueOrDefault(Trainer.SelectionMetric):F4} popularity_test_ndcg10={result.PopularityTest.GetValueOrDefault(Trainer.SelectionMetric):F4} peak_rss_mb={PeakRssMb():F0}"));
        }
        finally
        {
            Directory.Delete(run, recursive: true);
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

    /// <summary>
    /// <c>fold-in --checkpoint MANIFEST --data DIR [--items 20] [--repeats 2000] [--k 10]</c>: the latency of a session
    /// ranking's library part (fold the user in, score the catalogue, top k) for a cold-users run's best model, with
    /// sessions of <c>--items</c> of each held-out user's fold-in items, one thread; percentiles in milliseconds.
    /// </summary>
    public static int FoldIn(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        string manifest = a.GetValueOrDefault("checkpoint") ?? throw new ArgumentException("--checkpoint MANIFEST is required");
        string folder = a.GetValueOrDefault("data") ?? throw new ArgumentException("--data DIR is required");
        int items = Int(a, "items", 20), repeats = Int(a, "repeats", 2000), k = Int(a, "k", 10);
        RatingDataset data = MovieLensLoader.Load(folder);
        using LoadedCheckpoint checkpoint = CheckpointStore.Load(manifest);
        TrainingOptions training = checkpoint.Manifest.Training;
        var split = (ColdUsersSplit)EvaluationProtocol.Split(data, training.Protocol, training.SplitSeed);
        UserFoldIn foldIn = UserFoldIn.FromTraining(checkpoint.Model, training, split.TrainItems.Count(t => t.Length > 0));
        var scorer = new PrecomputedScorer(checkpoint.Model);
        FoldInItem[][] sessions = [.. split.HeldOutUsers.Select(u => split.FoldInItems[u].Take(items)
            .Select((item, i) => new FoldInItem(item, split.FoldInRatings[u][i])).ToArray())];
        var scores = new float[scorer.ItemCount];
        var top = new int[k];
        var times = new double[repeats];
        int iterations = 0;
        for (int r = -50; r < repeats; r++) // 50 warm-up calls
        {
            FoldInItem[] session = sessions[(r + 50) % sessions.Length];
            long start = Stopwatch.GetTimestamp();
            FoldInResult result = foldIn.Fold(session);
            scorer.ScoreVector(result.UserVector, scores);
            TopK.Select(scores, [.. session.Select(s => s.Item).Order()], k, top);
            if (r >= 0)
            {
                times[r] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                iterations += result.Iterations;
            }
        }
        // Quality of the same checkpoint with the penalty scaled (1 = the one training implies): what was tried.
        foreach (string scale in a.GetValueOrDefault("l2-scales", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            double factor = double.Parse(scale, CultureInfo.InvariantCulture);
            var scaled = new UserFoldIn(checkpoint.Model, foldIn.Settings with { L2 = foldIn.Settings.L2 * factor });
            IReadOnlyDictionary<string, double> m = ColdUsersEvaluator.Evaluate(scaled, scorer, split, Trainer.Ks).Metrics;
            Console.WriteLine(Invariant($"RESULT l2_scale={factor} l2={scaled.Settings.L2:G4} ndcg10={m["NDCG@10"]:F4} recall10={m["Recall@10"]:F4}"));
        }
        Array.Sort(times);
        double P(double q) => times[Math.Min(times.Length - 1, (int)Math.Ceiling(q * times.Length) - 1)];
        Console.WriteLine(Invariant($"RESULT sessions={sessions.Length} items={items} repeats={repeats} head={training.Head.Wire()} loss={training.Loss.Wire()} p50_ms={P(0.5):F2} p90_ms={P(0.9):F2} p99_ms={P(0.99):F2} max_ms={times[^1]:F2} mean_iterations={iterations / (double)repeats:F1}"));
        return 0;
    }

    /// <summary>
    /// <c>gc-stress [--iterations 300] [--epochs 3]</c>: runs the code that touches tensors outside a training batch
    /// (Adam state save and load, module save, scorer construction, head export, a short training run) while another
    /// thread collects garbage without pause. TorchSharp frees a tensor that is no longer referenced from the
    /// finalizer, so a chain like <c>t.detach().cpu()</c> outside a dispose scope can lose an intermediate while
    /// the next native call reads it; optimised (Release) code makes that window real. A crash ends the process
    /// (exit 139); surviving prints <c>RESULT survived=true</c>.
    /// </summary>
    public static int GcStress(string[] args)
    {
        Dictionary<string, string> a = Parse(args);
        int iterations = Int(a, "iterations", 300);
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
        var clock = Stopwatch.StartNew();
        torch.manual_seed(1);
        using var model = new TwoTowerModel(943, 1682, new ModelOptions { EmbeddingDim = 64 });
        using var mlp = new TwoTowerModel(50, 80, new ModelOptions { Head = ScoringHead.ConcatMlp, EmbeddingDim = 16, HiddenSizes = [32, 16] });
        using var optimizer = new AdamOptimizer(model.parameters(), 1e-3, 1e-2);
        for (int i = 0; i < iterations; i++)
        {
            using (var state = new MemoryStream())
            {
                optimizer.Save(state);
                state.Position = 0;
                optimizer.Load(state);
            }
            using (var weights = new MemoryStream())
            {
                model.save(weights);
            }
            _ = new PrecomputedScorer(mlp);
            using var scorer = new ModelScorer(model);
            var scores = new float[4 * 1682];
            scorer.Score([0, 1, 2, 3], scores);
        }
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 200, Items = 300, Seed = 7 });
        string run = Path.Combine(Path.GetTempPath(), "rankservice-gc-stress-" + Guid.NewGuid().ToString("N"));
        TorchThreads.UseForProcess(1);
        TrainingResult result = new Trainer(new TrainingOptions { Epochs = Int(a, "epochs", 3), BatchSize = 16, EmbeddingDim = 16, NegativesPerList = 50, Threads = 1 }).Train(data, run);
        Directory.Delete(run, recursive: true);
        stop.Cancel();
        collector.Join();
        Console.WriteLine(Invariant($"RESULT survived=true iterations={iterations} epochs={result.History.Count} seconds={clock.Elapsed.TotalSeconds:F1}"));
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
