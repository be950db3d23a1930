using System.Globalization;
using System.Text.RegularExpressions;

namespace RankService.Api.Tests.Metrics;

/// <summary>One sample of a Prometheus text exposition: the series name, its labels and its value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A small reader of the Prometheus text format (samples only; comments and metadata skipped).</summary>
public static partial class PrometheusText
{
    public static IReadOnlyList<PrometheusSample> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var samples = new List<PrometheusSample>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            Match m = SamplePattern().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match l in LabelPattern().Matches(m.Groups["labels"].Value))
            {
                labels[l.Groups[1].Value] = l.Groups[2].Value.Replace("\\\"", "\"", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);
            }
            string value = m.Groups["value"].Value;
            samples.Add(new PrometheusSample(m.Groups["name"].Value, labels, value switch
            {
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                "NaN" => double.NaN,
                _ => double.Parse(value, CultureInfo.InvariantCulture),
            }));
        }
        return samples;
    }

    /// <summary>The metric names a scrape holds (each <c># TYPE</c> line's name).</summary>
    public static IReadOnlySet<string> Families(string text) =>
        text.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal)).Select(l => l.Split(' ')[2]).ToHashSet(StringComparer.Ordinal);

    /// <summary>The one sample named <paramref name="name"/> whose labels include <paramref name="labels"/> ("key=value" each).</summary>
    public static double Value(this IReadOnlyList<PrometheusSample> samples, string name, params string[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        List<PrometheusSample> matching = samples.Matching(name, labels).ToList();
        Assert.True(matching.Count == 1, $"expected one sample {name}{{{string.Join(",", labels)}}}, found {matching.Count}");
        return matching[0].Value;
    }

    /// <summary>The sample's value, or 0 when the series does not exist yet (a counter before its first increment).</summary>
    public static double ValueOrZero(this IReadOnlyList<PrometheusSample> samples, string name, params string[] labels) =>
        samples.Matching(name, labels).Sum(s => s.Value);

    public static IEnumerable<PrometheusSample> Matching(this IReadOnlyList<PrometheusSample> samples, string name, params string[] labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var wanted = labels.Select(l => l.Split('=', 2)).ToList();
        return samples.Where(s => s.Name == name && wanted.All(w => s.Labels.TryGetValue(w[0], out string? v) && v == w[1]));
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SamplePattern();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPattern();
}
