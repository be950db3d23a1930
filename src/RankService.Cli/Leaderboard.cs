using System.Globalization;
using System.Text;
using RankService.Ranking.Metrics;

namespace RankService.Cli;

/// <summary>One configuration's runs (one per seed): validation and test metrics, and a note per run.</summary>
internal sealed record LeaderboardEntry(string Model, string Config, List<IReadOnlyDictionary<string, double>> Validation,
    List<IReadOnlyDictionary<string, double>> Test, List<string> Notes);

/// <summary>
/// Mean ± sample standard deviation over seeds of test metrics at K = 10, sorted by mean validation NDCG@10 (the
/// selection never looks at test), as a Markdown section headed by the command that produced it.
/// </summary>
internal static class Leaderboard
{
    public static readonly string[] Columns = [MetricNames.Ndcg10, "Recall@10", "MRR@10", "HR@10", "Precision@10"];

    public static (double Mean, double Std) MeanStd(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        if (v.Length == 0)
        {
            return (double.NaN, double.NaN);
        }
        double mean = v.Average();
        double std = v.Length > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1)) : 0;
        return (mean, std);
    }

    public static IReadOnlyList<LeaderboardEntry> Ranked(IEnumerable<LeaderboardEntry> entries) =>
        entries.OrderByDescending(e => MeanStd(e.Validation.Select(m => m[MetricNames.Ndcg10])).Mean).ToList();

    public static string Markdown(string title, string command, string context, IEnumerable<LeaderboardEntry> entries)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"### {title}: `{command}`").AppendLine();
        text.AppendLine(context).AppendLine();
        text.AppendLine("Test metrics, mean ± std over seeds (sample std; 0 for a deterministic model); sorted by validation NDCG@10.").AppendLine();
        text.AppendLine(c, $"| # | model | config | seeds | val NDCG@10 | {string.Join(" | ", Columns)} | notes |");
        text.AppendLine(c, $"|---|---|---|---|---|{string.Concat(Columns.Select(_ => "---|"))}---|");
        int rank = 0;
        foreach (LeaderboardEntry e in Ranked(entries))
        {
            (double vm, _) = MeanStd(e.Validation.Select(m => m[MetricNames.Ndcg10]));
            var cells = Columns.Select(col =>
            {
                (double m, double s) = MeanStd(e.Test.Select(t => t.GetValueOrDefault(col, double.NaN)));
                return string.Create(c, $"{m:F4} ± {s:F4}");
            });
            string notes = string.Join("; ", e.Notes.Where(n => n.Length > 0).Distinct());
            text.AppendLine(c, $"| {++rank} | {e.Model} | {e.Config} | {e.Test.Count} | {vm:F4} | {string.Join(" | ", cells)} | {notes} |");
        }
        return text.ToString();
    }
}
