namespace RankService.Api.Serving;

/// <summary>The fold-in seam until the library's fold-in is wired: every session answers 503.</summary>
public sealed class UnavailableFoldIn : ISessionFoldIn
{
    public void Score(ServingModel model, IReadOnlyList<SessionItem> items, Span<float> scores) =>
        throw new FoldInUnavailableException("This service cannot fold new users in yet.");
}
