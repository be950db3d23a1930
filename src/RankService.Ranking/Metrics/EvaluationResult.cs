namespace RankService.Ranking.Metrics;

/// <summary>Which held-out items of a <see cref="Splits.UserSplit"/> to rank.</summary>
public enum EvaluationTarget
{
    /// <summary>The validation items; the user's train items are excluded from the candidates.</summary>
    Validation,

    /// <summary>The test items; the user's train items and validation items are excluded from the candidates.</summary>
    Test,
}

/// <summary>
/// Metrics averaged over the evaluated users, keyed <c>HR@K</c>, <c>NDCG@K</c>, <c>MRR</c>, <c>MRR@K</c>,
/// <c>Recall@K</c>, <c>Precision@K</c> and <c>MAP@K</c> for each requested K. When <see cref="Users"/> is 0
/// every metric is 0.
/// </summary>
public sealed record EvaluationResult(IReadOnlyDictionary<string, double> Metrics, int Users);
