using RankService.Ranking.Model;

namespace RankService.Api.Serving;

/// <summary>
/// Sessions through the library's fold-in (<see cref="UserFoldIn"/>): the user vector the serving model's trained loss
/// prefers for the session's items, with the item side frozen, scored against the catalogue like a known user.
/// </summary>
public sealed class ModelFoldIn : ISessionFoldIn
{
    public void Score(ServingModel model, IReadOnlyList<SessionItem> items, Span<float> scores)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(items);
        UserFoldIn foldIn = model.FoldIn
            ?? throw new FoldInUnavailableException($"The serving model of '{model.Dataset}' (job {model.JobId}) was replaced meanwhile; ask again.");
        FoldInResult user = foldIn.Fold([.. items.Select(i => new FoldInItem(i.Item, i.Value))]);
        model.Scorer.ScoreVector(user.UserVector, scores);
    }
}
