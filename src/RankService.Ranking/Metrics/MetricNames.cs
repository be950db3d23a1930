namespace RankService.Ranking.Metrics;

/// <summary>The names under which <see cref="FullCatalogueEvaluator"/> reports metrics (<c>{family}@{k}</c>).</summary>
public static class MetricNames
{
    /// <summary>NDCG over the top 10: the metric that picks the best epoch, configuration, blend weight and serving model.</summary>
    public const string Ndcg10 = "NDCG@10";
}
