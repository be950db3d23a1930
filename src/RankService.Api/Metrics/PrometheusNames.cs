namespace RankService.Api.Metrics;

/// <summary>
/// The names <c>/metrics</c> gives the series in Prometheus text format (OpenTelemetry's names with dots as
/// underscores, the unit as a suffix, <c>_total</c> on counters). The Grafana dashboard and the Prometheus rules use these; a test scrapes
/// the running host and checks each, and the deployment drift test checks the dashboard against them.
/// </summary>
public static class PrometheusNames
{
    /// <summary>ASP.NET Core's request duration histogram, labelled by <c>http_route</c> (the route template), method and status.</summary>
    public const string RequestDuration = "http_server_request_duration_seconds";

    public const string Jobs = "rankservice_jobs";
    public const string EpochDuration = "rankservice_training_epoch_duration_seconds";
    public const string TrainingItems = "rankservice_training_items_total";
    public const string TrainingThroughput = "rankservice_training_throughput_per_second";
    public const string ServingModelAge = "rankservice_serving_model_age_seconds";
    public const string ServingValidationNdcg = "rankservice_serving_validation_ndcg_at_10";
    public const string FeedbackIngested = "rankservice_feedback_ingested_total";
    public const string IndexRecall = "rankservice_index_recall";

    /// <summary>Every series of the service's own meter (the request histogram is ASP.NET Core's).</summary>
    public static IReadOnlyList<string> Own { get; } =
        [Jobs, EpochDuration, TrainingItems, TrainingThroughput, ServingModelAge, ServingValidationNdcg, FeedbackIngested, IndexRecall];
}
