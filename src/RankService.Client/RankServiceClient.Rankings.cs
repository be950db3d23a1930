using System.Globalization;
using System.Text;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary>
    /// <c>GET /users/{id}/ranking</c>: the top <paramref name="k"/> items for a user id (as the data set spells it) from the
    /// serving model of <paramref name="dataset"/> (null: the service's choice). <paramref name="exact"/> skips the
    /// approximate index. 404 for an unknown user, 503 before any model.
    /// </summary>
    public Task<UserRanking> GetRankingAsync(string userId, int? k = null, string? dataset = null, bool includeSeen = false,
        bool exact = false, CancellationToken cancellationToken = default)
    {
        var path = new StringBuilder($"users/{Segment(userId)}/ranking?includeSeen={(includeSeen ? "true" : "false")}");
        if (k is not null)
        {
            path.Append(CultureInfo.InvariantCulture, $"&k={k}");
        }
        if (dataset is not null)
        {
            path.Append("&dataset=").Append(Uri.EscapeDataString(dataset));
        }
        if (exact)
        {
            path.Append("&exact=true");
        }
        return GetAsync<UserRanking>(path.ToString(), cancellationToken);
    }

    /// <inheritdoc cref="GetRankingAsync(string, int?, string?, bool, bool, CancellationToken)"/>
    public Task<UserRanking> GetRankingAsync(long userId, int? k = null, string? dataset = null, bool includeSeen = false,
        bool exact = false, CancellationToken cancellationToken = default) =>
        GetRankingAsync(userId.ToString(CultureInfo.InvariantCulture), k, dataset, includeSeen, exact, cancellationToken);
}

/// <summary>The answer of <c>GET /users/{id}/ranking</c>; <see cref="Items"/> best first.</summary>
/// <param name="ModelJobId">The job whose model ranked.</param>
/// <param name="Approximate">True when the model's approximate index answered.</param>
/// <param name="Offset">How many of the best items were skipped (paging).</param>
/// <param name="Source"><c>model</c>, or <c>popular</c> for the popularity fallback of an unknown user (scores are train-set counts).</param>
public sealed record UserRanking(string UserId, string Dataset, string ModelJobId, int K, bool IncludeSeen, IReadOnlyList<RankedItem> Items, bool Approximate = false,
    int Offset = 0, string Source = "model");

/// <summary>One ranked item: <see cref="ItemId"/> as the data set spells it; <see cref="MovieId"/> only when the data set's item ids are all integers (MovieLens).</summary>
public sealed record RankedItem(int Rank, string ItemId, long? MovieId, string Title, float Score);
