using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RankService.Api.Metrics;
using RankService.Api.Tests.Metrics;
using YamlDotNet.Serialization;

namespace RankService.Api.Tests;

/// <summary>
/// The monitoring files against the code: every series and label the Grafana dashboard queries is one a running host
/// exposes at <c>/metrics</c> (after a job, a ranking, feedback and an index recall, so every series has a sample),
/// every series of the service has a panel, and the compose and Kubernetes scrape configs reach that path on the
/// api and the worker, whose settings let them scrape.
/// </summary>
public sealed partial class DeploymentDriftTests
{
    /// <summary>Labels Prometheus adds when it scrapes (and the Kubernetes config's relabelling), not in /metrics itself.</summary>
    private static readonly string[] ScrapeLabels = ["job", "instance", "pod", "component"];

    private static readonly HashSet<string> PromQlWords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless", "le",
    };

    [Fact]
    public async Task The_dashboard_queries_only_series_and_labels_that_metrics_exposes_and_charts_every_series()
    {
        (HashSet<string> series, HashSet<string> labels) = await ExposedSeriesAsync();
        List<string> expressions = DashboardTargets().Select(t => t.Expr).ToList();
        Assert.True(expressions.Count >= 10, "the dashboard has too few queries to be the one described");

        var problems = new List<string>();
        var charted = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string expr, string legend) in DashboardTargets())
        {
            (IReadOnlyList<string> names, IReadOnlyList<string> labelNames) = ParsePromQl(expr);
            Assert.NotEmpty(names);
            foreach (string name in names)
            {
                charted.Add(Family(name));
                if (!series.Contains(name))
                {
                    problems.Add($"{expr}: /metrics has no series {name}");
                }
            }
            foreach (string label in labelNames.Concat(LegendLabelPattern().Matches(legend).Select(m => m.Groups[1].Value)))
            {
                if (!labels.Contains(label) && !ScrapeLabels.Contains(label))
                {
                    problems.Add($"{expr}: no series of /metrics has a label {label}");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        foreach (string name in PrometheusNames.Own.Append(PrometheusNames.RequestDuration))
        {
            Assert.True(charted.Contains(name), $"the dashboard has no panel for {name}");
        }
    }

    [Fact]
    public void The_parser_of_dashboard_queries_finds_series_and_labels_and_skips_functions_and_strings()
    {
        (IReadOnlyList<string> names, IReadOnlyList<string> labels) = ParsePromQl(
            "histogram_quantile(0.95, sum by (le, http_route) (rate(http_server_request_duration_seconds_bucket{http_response_status_code=~\"5..\", job!=\"x y\"}[5m]))) / on(instance) rankservice_jobs");
        Assert.Equal(["http_server_request_duration_seconds_bucket", "rankservice_jobs"], names);
        Assert.Equal(["http_response_status_code", "http_route", "instance", "job"], labels.Order(StringComparer.Ordinal));
        Assert.Equal("rankservice_training_epoch_duration_seconds", Family("rankservice_training_epoch_duration_seconds_bucket"));
    }

    [Fact]
    public void Compose_runs_prometheus_scraping_the_metrics_path_of_the_api_and_the_worker_which_let_it()
    {
        HashSet<string> routes = HostRoutes();
        Dictionary<string, object> compose = ComposeServices();
        Dictionary<string, object> prometheus = Map(compose["prometheus"]);
        Assert.StartsWith("prom/prometheus", Scalar(prometheus["image"]), StringComparison.Ordinal);
        string mount = List(prometheus["volumes"]).Select(Scalar).Single(v => v.EndsWith(":/etc/prometheus/prometheus.yml:ro", StringComparison.Ordinal));
        string file = System.IO.Path.Combine(Root, mount[..mount.IndexOf(':', StringComparison.Ordinal)]);
        Assert.True(File.Exists(file), $"compose mounts {file}, which does not exist");

        object config = new DeserializerBuilder().Build().Deserialize<object>(File.ReadAllText(file))!;
        var scraped = new HashSet<string>(StringComparer.Ordinal);
        foreach (object job in List(Map(config)["scrape_configs"]))
        {
            string path = Map(job).TryGetValue("metrics_path", out object? p) ? Scalar(p) : "/metrics";
            Assert.True(routes.Contains(path), $"prometheus.yml scrapes {path}, which the host does not map");
            foreach (string target in List(Map(job)["static_configs"]).SelectMany(c => List(Map(c)["targets"])).Select(Scalar))
            {
                string service = target[..target.IndexOf(':', StringComparison.Ordinal)];
                Assert.True(compose.TryGetValue(service, out object? s) && UsesOurImage(s), $"prometheus.yml scrapes {target}, not a RankService container");
                Assert.Equal(Environment(s!)["ASPNETCORE_HTTP_PORTS"], target[(target.IndexOf(':', StringComparison.Ordinal) + 1)..]);
                scraped.Add(service);
            }
        }
        Assert.Equal(["api", "worker"], scraped.Order(StringComparer.Ordinal));
        foreach (string service in scraped)
        {
            Dictionary<string, string> env = Environment(compose[service]);
            Assert.True(env.ContainsKey("Metrics__AllowedNetworks__0") || env.GetValueOrDefault("Metrics__AllowedFromAnyAddress") == "true",
                $"compose {service} answers /metrics on loopback only, so Prometheus would get 403");
        }
    }

    [Fact]
    public void The_kubernetes_pods_are_annotated_for_scraping_and_the_scrape_config_keeps_them()
    {
        HashSet<string> routes = HostRoutes();
        List<Dictionary<string, object>> k8s = KubernetesDocuments();
        foreach (string name in new[] { "rankservice-api", "rankservice-worker" })
        {
            Dictionary<string, object> deployment = Deployment(k8s, name);
            Dictionary<string, object> annotations = Map(Path(deployment, "spec", "template", "metadata", "annotations"));
            Assert.Equal("true", Scalar(annotations["prometheus.io/scrape"]));
            Assert.True(routes.Contains(Scalar(annotations["prometheus.io/path"])), $"{name} is scraped at a path the host does not map");
            Assert.Contains(Scalar(annotations["prometheus.io/port"]), List(Container(deployment)["ports"]).Select(p => Scalar(Map(p)["containerPort"])));
        }
        Dictionary<string, object> settings = Map(k8s.Single(d => Scalar(d["kind"]) == "ConfigMap" && Scalar(Path(d, "metadata", "name")) == SettingsConfigMap)["data"]);
        Assert.True(settings.ContainsKey("Metrics__AllowedNetworks__0"), "the pods answer /metrics on loopback only, so Prometheus would get 403");

        Dictionary<string, object> scrape = k8s.Single(d => Scalar(d["kind"]) == "ConfigMap" && Scalar(Path(d, "metadata", "name")) == "rankservice-prometheus");
        object config = new DeserializerBuilder().Build().Deserialize<object>(Scalar(Map(scrape["data"])["prometheus.yml"]))!;
        Dictionary<string, object> job = Map(List(Map(config)["scrape_configs"]).Single());
        Assert.Equal("pod", Scalar(Map(List(job["kubernetes_sd_configs"]).Single())["role"]));
        List<Dictionary<string, object>> relabel = List(job["relabel_configs"]).Select(Map).ToList();
        Assert.Contains(relabel, r => Scalar(r["action"]) == "keep" && List(r["source_labels"]).Select(Scalar).Single() == "__meta_kubernetes_pod_annotation_prometheus_io_scrape");
        Assert.Contains(relabel, r => r.TryGetValue("target_label", out object? t) && Scalar(t) == "__metrics_path__" && List(r["source_labels"]).Select(Scalar).Single() == "__meta_kubernetes_pod_annotation_prometheus_io_path");
        Assert.Contains(File.ReadAllLines(System.IO.Path.Combine(Root, "deploy", "kustomization.yaml")), l => l.Trim() == "- prometheus.yaml");
    }

    /// <summary>Every sample name and label name of a scrape of a host that trained a job, ranked, took feedback and has an index recall.</summary>
    private static async Task<(HashSet<string> Series, HashSet<string> Labels)> ExposedSeriesAsync()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?> { ["Metrics:AllowedFromAnyAddress"] = "true" });
        using HttpClient client = host.CreateClient();
        JobView job = await ApiHost.PostJobAsync(client, new { dataset = "synthetic", epochs = 1 });
        await ApiHost.WaitForStateAsync(client, job.Id, JobState.Succeeded);
        (await client.GetAsync("/users/1/ranking")).EnsureSuccessStatusCode();
        ServiceMetrics metrics = host.Services.GetRequiredService<ServiceMetrics>();
        metrics.FeedbackIngested("synthetic", 1);
        metrics.SetIndexRecall("synthetic", 0.9);
        IReadOnlyList<PrometheusSample> samples = PrometheusText.Parse(await client.GetStringAsync("/metrics"));
        return (samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal), samples.SelectMany(s => s.Labels.Keys).ToHashSet(StringComparer.Ordinal));
    }

    private static HashSet<string> HostRoutes()
    {
        using var host = new ApiHost();
        using HttpClient client = host.CreateClient();
        return host.Services.GetServices<EndpointDataSource>()
            .SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .ToHashSet(StringComparer.Ordinal);
    }

    private static IEnumerable<(string Expr, string Legend)> DashboardTargets()
    {
        JsonNode dashboard = JsonNode.Parse(File.ReadAllText(System.IO.Path.Combine(Root, "deploy", "grafana", "rankservice-dashboard.json")))!;
        Assert.Equal("RankService", (string?)dashboard["title"]);
        IEnumerable<JsonNode> panels = dashboard["panels"]!.AsArray().Select(p => p!)
            .SelectMany(p => new[] { p }.Concat(p["panels"]?.AsArray().Select(q => q!) ?? [])); // rows may nest panels
        foreach (JsonNode panel in panels)
        {
            foreach (JsonNode? target in panel["targets"]?.AsArray() ?? [])
            {
                yield return ((string)target!["expr"]!, (string?)target["legendFormat"] ?? "");
            }
        }
    }

    /// <summary>The series names and label names a PromQL expression uses (strings, durations and function names left out).</summary>
    private static (IReadOnlyList<string> Names, IReadOnlyList<string> Labels) ParsePromQl(string expr)
    {
        var labels = new List<string>();
        string rest = StringPattern().Replace(expr, "\"\"");
        rest = RangePattern().Replace(rest, "");
        foreach (Match m in MatcherPattern().Matches(rest))
        {
            labels.AddRange(LabelMatcherPattern().Matches(m.Groups[1].Value).Select(l => l.Groups[1].Value));
        }
        rest = MatcherPattern().Replace(rest, "");
        foreach (Match m in GroupingPattern().Matches(rest))
        {
            labels.AddRange(m.Groups[2].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
        }
        rest = GroupingPattern().Replace(rest, " ");
        List<string> names = IdentifierPattern().Matches(rest)
            .Where(m => !m.Groups[2].Success && !PromQlWords.Contains(m.Groups[1].Value))
            .Select(m => m.Groups[1].Value)
            .Where(n => !n.StartsWith("__", StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        return (names, labels.Where(l => l != "le").Distinct(StringComparer.Ordinal).ToList());
    }

    /// <summary>A histogram's series name without its _bucket, _sum or _count.</summary>
    private static string Family(string name) => HistogramSuffixPattern().Replace(name, "");

    [GeneratedRegex(@"""(?:[^""\\]|\\.)*""")]
    private static partial Regex StringPattern();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex RangePattern();

    [GeneratedRegex(@"\{([^}]*)\}")]
    private static partial Regex MatcherPattern();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)")]
    private static partial Regex LabelMatcherPattern();

    [GeneratedRegex(@"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")]
    private static partial Regex GroupingPattern();

    [GeneratedRegex(@"(?<![\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")]
    private static partial Regex LegendLabelPattern();

    [GeneratedRegex(@"_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffixPattern();
}
