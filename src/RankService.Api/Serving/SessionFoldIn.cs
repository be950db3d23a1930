namespace RankService.Api.Serving;

/// <summary>One item of a session: a dense item index and, optionally, its value (a rating; 1 when left out).</summary>
public readonly record struct SessionItem(int Item, float? Value);

/// <summary>
/// Folds a user the model never saw into a serving model from the items they interacted with, and scores the catalogue
/// for them (<c>POST /sessions/ranking</c>). The seam between the endpoint and the fold-in math of the Ranking library.
/// </summary>
public interface ISessionFoldIn
{
    /// <summary>Scores every catalogue item (into <paramref name="scores"/>, length ≥ ItemCount) for the user these items describe. Thread-safe.</summary>
    /// <exception cref="FoldInUnavailableException">This model cannot fold users in.</exception>
    void Score(ServingModel model, IReadOnlyList<SessionItem> items, Span<float> scores);
}

/// <summary>Thrown when a serving model cannot fold a session in now; the endpoint answers 503 with the message.</summary>
public sealed class FoldInUnavailableException(string message) : Exception(message);
