using System.Diagnostics;
using System.Globalization;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Index;
using RankService.Ranking.Model;

namespace RankService.Benchmarks;

/// <summary>
/// <c>ann --checkpoint MANIFEST [--connectivity 16 --expansion-add 128 --expansion-search 64,128 --users 1000 --threads 0]</c>:
/// builds the approximate index of a trained checkpoint's items and, for each search expansion, measures recall@10
/// against the exact ranking (seen items excluded, as served) and the single-thread time per query of the index path
/// and of the exact pass over the same users. One RESULT line per expansion, for tuning on trained vectors.
/// </summary>
internal static class AnnTool
{
    public static int Run(string[] args)
    {
        Dictionary<string, string> a = Tools.Parse(args);
        string path = a.GetValueOrDefault("checkpoint") ?? throw new ArgumentException("--checkpoint MANIFEST is required");
        int users = Tools.Int(a, "users", IndexRecall.DefaultUsers);
        int[] expansions = [.. a.GetValueOrDefault("expansion-search", "64").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        var settings = new ItemIndexSettings
        {
            Connectivity = Tools.Int(a, "connectivity", 16),
            ExpansionAdd = Tools.Int(a, "expansion-add", 128),
            ExpansionSearch = expansions[0],
            BuildThreads = Tools.Int(a, "threads", 0),
        };

        PrecomputedScorer scorer;
        SeenItems? seen;
        using (LoadedCheckpoint checkpoint = CheckpointStore.Load(path))
        {
            scorer = new PrecomputedScorer(checkpoint.Model);
            seen = CheckpointStore.LoadSeen(path, checkpoint.Manifest);
        }
        Console.WriteLine(Inv($"{scorer.UserCount} users, {scorer.ItemCount} items, width {scorer.Width}; building (connectivity {settings.Connectivity}, expansion add {settings.ExpansionAdd}, {Environment.ProcessorCount} cores)"));
        long start = Stopwatch.GetTimestamp();
        using ItemIndex built = ItemIndex.Build(scorer, settings);
        double buildSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        string file = Path.Combine(Path.GetTempPath(), $"rankservice-ann-{Guid.NewGuid():N}.usearch");
        built.Save(file);
        long bytes = new FileInfo(file).Length;
        Console.WriteLine(Inv($"built in {buildSeconds:F1} s; index file {bytes / 1048576.0:F0} MB; peak RSS {Tools.PeakRssMb():F0} MB"));
        try
        {
            foreach (int expansion in expansions)
            {
                using ItemIndex index = ItemIndex.Load(file, scorer.ItemCount, scorer.Width + 1, settings with { ExpansionSearch = expansion });
                IndexRecall recall = IndexRecall.Measure(scorer, index, seen, users);
                (double indexUs, double exactUs) = TimePerQuery(scorer, index, seen, users);
                Console.WriteLine(Inv(
                    $"RESULT items={scorer.ItemCount} connectivity={settings.Connectivity} expansion_add={settings.ExpansionAdd} expansion_search={expansion} build_s={buildSeconds:F1} ") +
                    Inv($"recall_at_10={recall.RecallAt10:F4} users={recall.Users} fallbacks={recall.Fallbacks} index_us={indexUs:F0} exact_us={exactUs:F0} index_mb={bytes / 1048576.0:F0} peak_rss_mb={Tools.PeakRssMb():F0}"));
            }
        }
        finally
        {
            File.Delete(file);
        }
        return 0;
    }

    /// <summary>Mean microseconds per top-10 query on one thread: the index path, then the exact pass, over the same users.</summary>
    private static (double Index, double Exact) TimePerQuery(PrecomputedScorer scorer, ItemIndex index, SeenItems? seen, int users)
    {
        int n = Math.Min(users, scorer.UserCount);
        var top = new int[10];
        var scores = new float[scorer.ItemCount];
        long start = Stopwatch.GetTimestamp();
        for (int u = 0; u < n; u++)
        {
            if (index.TopK(scorer, u, 10, seen is null ? null : IndexRecall.NotSeen(seen, u), top, scores) < 0)
            {
                scorer.ScoreUser(u, scores);
                TopK.Select(scores, seen is null ? [] : seen.For(u), 10, top);
            }
        }
        double indexUs = Stopwatch.GetElapsedTime(start).TotalMicroseconds / n;
        start = Stopwatch.GetTimestamp();
        for (int u = 0; u < n; u++)
        {
            scorer.ScoreUser(u, scores);
            TopK.Select(scores, seen is null ? [] : seen.For(u), 10, top);
        }
        return (indexUs, Stopwatch.GetElapsedTime(start).TotalMicroseconds / n);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
