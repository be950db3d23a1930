using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Api.Security;

namespace RankService.Api.Extensions;

public static class SecurityExtensions
{
    /// <summary>The authorization policy of endpoints that change state (submit, cancel, activate) and, when configured, of rankings.</summary>
    public const string ApiKeyPolicy = "ApiKey";

    /// <summary>
    /// The <c>Security</c> section (validated at start-up), the <c>ApiKey</c> authentication scheme and policy, and
    /// Kestrel's request body limit.
    /// </summary>
    public static IHostApplicationBuilder AddApiKeys(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        services.AddOptions<SecurityOptions>().Bind(builder.Configuration.GetSection(SecurityOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, SecurityOptionsValidator>();
        services.AddSingleton<IValidateOptions<JobsOptions>, DashboardAccessValidator>();
        services.AddSingleton<ApiKeyVerifier>();
        // No default scheme: only endpoints with the policy authenticate, so open endpoints (rankings) pay nothing. Without
        // the switch, ASP.NET Core makes a lone scheme the default and authenticates every request with it.
        AppContext.SetSwitch("Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme", true);
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder().AddPolicy(ApiKeyPolicy, policy => policy
            .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser());
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<SecurityOptions>>((kestrel, security) =>
            kestrel.Limits.MaxRequestBodySize = security.Value.MaxRequestBodyBytes);
        // A chunked body cut off by Kestrel leaves a bare 413: say the limit.
        services.AddOptions<ProblemDetailsOptions>().Configure<IOptions<SecurityOptions>>((problems, security) =>
        {
            Action<ProblemDetailsContext>? earlier = problems.CustomizeProblemDetails;
            problems.CustomizeProblemDetails = context =>
            {
                earlier?.Invoke(context);
                if (context.ProblemDetails.Status == StatusCodes.Status413PayloadTooLarge && context.ProblemDetails.Detail is null)
                {
                    context.ProblemDetails.Detail = $"At most {security.Value.MaxRequestBodyBytes} bytes of request body are accepted ({SecurityOptions.Section}:{nameof(SecurityOptions.MaxRequestBodyBytes)}).";
                }
            };
        });
        return builder;
    }

    /// <summary>
    /// Cross-origin writes refused (<see cref="RefuseCrossOriginWrites"/>), then authentication and authorization; warns
    /// at start when no key is configured.
    /// </summary>
    public static WebApplication UseApiKeys(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (!app.Services.GetRequiredService<ApiKeyVerifier>().HasKeys)
        {
            app.Logger.LogWarning(
                "No API keys configured ({Setting}): submitting, cancelling and activating are accepted from this machine (loopback) only. Set a key hash to accept them from other machines.",
                $"{SecurityOptions.Section}:{nameof(SecurityOptions.ApiKeyHashes)}");
        }
        app.RefuseCrossOriginWrites();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// A state-changing request (any method but GET, HEAD, OPTIONS and TRACE) that a browser sent from another site's
    /// page answers 403, whatever the path (the API and the Hangfire dashboard alike). Loopback trust and the browser's
    /// own cookies are otherwise a cross-site request forgery: a page open on the server machine could POST a
    /// text/plain "simple request" to /models/{id}/activate, or to /hangfire/jobs/enqueued/delete. Browsers mark
    /// such requests (Sec-Fetch-Site, else Origin), and a page cannot forge either; clients without them (curl, the
    /// CLI, other services) and the service's own pages (same origin) pass.
    /// </summary>
    private static void RefuseCrossOriginWrites(this WebApplication app) => app.Use(async (context, next) =>
    {
        if (CrossOrigin(context.Request) is { } origin)
        {
            await context.WriteProblemAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Cross-origin request refused",
                Detail = $"A {Apis.Echo.Of(context.Request.Method)} from a page of another origin ({Apis.Echo.Of(origin)}) is refused: only the service's own pages and non-browser clients may change state.",
            });
            return;
        }
        await next(context);
    });

    /// <summary>Where a cross-origin write came from (for the answer); null for a read, a same-origin write or a non-browser client.</summary>
    private static string? CrossOrigin(HttpRequest request)
    {
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method))
        {
            return null;
        }
        // Sec-Fetch-Site is the browser's own verdict: "same-origin", "none" (typed by the user) or a cross one.
        string? site = request.Headers["Sec-Fetch-Site"];
        if (site is not null && !site.Equals("same-origin", StringComparison.OrdinalIgnoreCase) && !site.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return $"Sec-Fetch-Site: {site}";
        }
        string? origin = request.Headers.Origin;
        if (origin is null)
        {
            return null;
        }
        // "null" (a sandboxed frame, a file:// page) and anything unparsable are foreign too.
        bool same = Uri.TryCreate(origin, UriKind.Absolute, out Uri? uri)
            && uri.Scheme.Equals(request.Scheme, StringComparison.OrdinalIgnoreCase)
            && uri.Host.Trim('[', ']').Equals(request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase)
            && uri.Port == (request.Host.Port ?? (request.IsHttps ? 443 : 80))
            && uri.AbsolutePath == "/";
        return same ? null : $"Origin: {origin}";
    }

    /// <summary>
    /// A body whose declared length is over <see cref="SecurityOptions.MaxRequestBodyBytes"/> answers 413 ProblemDetails
    /// saying the limit before anything reads it; Kestrel's own limit (same value) cuts off a chunked body while it is read.
    /// </summary>
    public static WebApplication UseRequestBodyLimit(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        long global = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value.MaxRequestBodyBytes;
        app.Use(async (context, next) =>
        {
            // An endpoint with its own limit (the data set imports) replaces the global one, for Kestrel's count too.
            long limit = global;
            if (context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize is { } own)
            {
                limit = own;
                if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
                {
                    feature.MaxRequestBodySize = own;
                }
            }
            if (context.Request.ContentLength > limit)
            {
                context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                await context.WriteProblemAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "The request body is too large",
                    Detail = $"The body is {context.Request.ContentLength} bytes; at most {limit} are accepted ({(limit == global ? $"{SecurityOptions.Section}:{nameof(SecurityOptions.MaxRequestBodyBytes)}" : "this endpoint's limit, see Data:MaxImportBytes and Data:MaxBatchBytes")}).",
                });
                return;
            }
            await next(context);
        });
        return app;
    }

    /// <summary>The endpoint requires a valid <c>X-Api-Key</c> (or, with no keys configured, a loopback client).</summary>
    public static RouteHandlerBuilder RequireApiKey(this RouteHandlerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.RequireAuthorization(ApiKeyPolicy).ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    /// <summary><see cref="RequireApiKey"/> when <see cref="SecurityOptions.RequireKeyForRankings"/> is set.</summary>
    public static RouteHandlerBuilder RequireApiKeyForRankings(this RouteHandlerBuilder builder, IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.ServiceProvider.GetRequiredService<IOptions<SecurityOptions>>().Value.RequireKeyForRankings ? builder.RequireApiKey() : builder;
    }

    /// <summary>A dashboard open to other machines needs a key to open it with.</summary>
    private sealed class DashboardAccessValidator(IOptions<SecurityOptions> security) : IValidateOptions<JobsOptions>
    {
        public ValidateOptionsResult Validate(string? name, JobsOptions options) =>
            !options.DashboardLocalOnly && security.Value.ApiKeyHashes.Count == 0
                ? ValidateOptionsResult.Fail($"{JobsOptions.Section}:{nameof(JobsOptions.DashboardLocalOnly)}=false needs {SecurityOptions.Section}:{nameof(SecurityOptions.ApiKeyHashes)}: a dashboard reachable from other machines requires an API key.")
                : ValidateOptionsResult.Success;
    }

    private sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
    {
        public ValidateOptionsResult Validate(string? name, SecurityOptions options) =>
            options.Check() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
