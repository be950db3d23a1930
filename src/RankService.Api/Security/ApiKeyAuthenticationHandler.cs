using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using RankService.Api.Extensions;
using RankService.Api.Options;

namespace RankService.Api.Security;

/// <summary>
/// The <c>ApiKey</c> authentication scheme: a valid <c>X-Api-Key</c> header when keys are configured, a loopback
/// connection when none are. Missing and wrong keys get the same 401 ProblemDetails, so a caller never learns which.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyVerifier keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!keys.HasKeys)
        {
            return Task.FromResult(ApiKeyVerifier.IsLoopback(Context) ? Success("loopback") : AuthenticateResult.NoResult());
        }
        string? key = ApiKeyVerifier.KeyOf(Request);
        if (key is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }
        // The failure message is logged by the framework: it never holds the key.
        return Task.FromResult(keys.Verify(key) ? Success("api-key") : AuthenticateResult.Fail("The API key does not match a configured hash."));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.Headers.WWWAuthenticate = $"{SchemeName} header=\"{SecurityOptions.ApiKeyHeader}\"";
        await Context.WriteProblemAsync(new ProblemDetails
        {
            Status = StatusCodes.Status401Unauthorized,
            Title = "An API key is required",
            Detail = $"Send a valid API key in the {SecurityOptions.ApiKeyHeader} header. Keys are set as SHA-256 hashes in {SecurityOptions.Section}:{nameof(SecurityOptions.ApiKeyHashes)}; without any, only requests from this machine (loopback) are accepted.",
        });
    }

    private static AuthenticateResult Success(string how) =>
        AuthenticateResult.Success(new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity([new Claim("auth", how)], SchemeName)), SchemeName));
}
