using System.Net;

namespace RankService.Client;

public sealed partial class RankServiceClient
{
    /// <summary><c>GET /health/live</c>: whether the process answers (false on a 503).</summary>
    public Task<Health> GetLivenessAsync(CancellationToken cancellationToken = default) => HealthAsync("health/live", cancellationToken);

    /// <summary><c>GET /health/ready</c>: whether the serving models are loaded (false, with the reason, while loading).</summary>
    public Task<Health> GetReadinessAsync(CancellationToken cancellationToken = default) => HealthAsync("health/ready", cancellationToken);

    /// <summary>A health answer is a status, not an error: 200 and 503 both return; anything else throws.</summary>
    private async Task<Health> HealthAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Relative(path));
        using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable))
        {
            throw await ProblemAsync(response, cancellationToken).ConfigureAwait(false);
        }
        string status = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return new Health(response.StatusCode == HttpStatusCode.OK, status);
    }
}

/// <param name="Healthy">True on a 200.</param>
/// <param name="Status">The service's word: Healthy, Unhealthy or Degraded.</param>
public sealed record Health(bool Healthy, string Status);
