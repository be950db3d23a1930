using System.Globalization;
using System.Text;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary>
    /// <c>GET /users/{id}/ranking</c>: the top <paramref name="k"/> movies for a raw user id from the serving model of
    /// <paramref name="dataset"/> (null: the service's choice). 404 for an unknown user, 503 before any model.
    /// </summary>
    public Task<UserRanking> GetRankingAsync(string userId, int? k = null, string? dataset = null, bool includeSeen = false,
        CancellationToken cancellationToken = default)
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
        return GetAsync<UserRanking>(path.ToString(), cancellationToken);
    }

    /// <inheritdoc cref="GetRankingAsync(string, int?, string?, bool, CancellationToken)"/>
    public Task<UserRanking> GetRankingAsync(long userId, int? k = null, string? dataset = null, bool includeSeen = false,
        CancellationToken cancellationToken = default) =>
        GetRankingAsync(userId.ToString(CultureInfo.InvariantCulture), k, dataset, includeSeen, cancellationToken);
}

/// <summary>The answer of <c>GET /users/{id}/ranking</c>; <see cref="Items"/> best first.</summary>
/// <param name="ModelJobId">The job whose model ranked.</param>
public sealed record UserRanking(long UserId, string Dataset, string ModelJobId, int K, bool IncludeSeen, IReadOnlyList<RankedMovie> Items);

public sealed record RankedMovie(int Rank, long MovieId, string Title, float Score);
