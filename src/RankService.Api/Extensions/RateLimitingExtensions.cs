using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RankService.Api.Options;

namespace RankService.Api.Extensions;

public static class RateLimitingExtensions
{
    public const string JobsPolicy = "jobs";
    public const string RankingsPolicy = "rankings";

    /// <summary>
    /// ASP.NET Core's rate limiter with a fixed-window policy per client IP address for job submission and for
    /// rankings (section <c>RateLimiting</c>); a rejected request gets 429 with <c>Retry-After</c> and ProblemDetails.
    /// </summary>
    public static IHostApplicationBuilder AddRateLimits(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<RateLimitingOptions>().Bind(builder.Configuration.GetSection(RateLimitingOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<RateLimitingOptions>, RateLimitingOptionsValidator>();
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.AddPolicy(JobsPolicy, context => PerClient(context, o => o.Jobs));
            limiter.AddPolicy(RankingsPolicy, context => PerClient(context, o => o.Rankings));
            limiter.OnRejected = OnRejectedAsync;
        });
        return builder;
    }

    public static WebApplication UseRateLimits(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseRateLimiter();
        return app;
    }

    /// <summary>
    /// Limits the endpoint by <paramref name="policy"/> when its limit is on. An endpoint whose limit is off carries no
    /// limiter metadata at all, so the hot ranking path pays nothing by default.
    /// </summary>
    public static RouteHandlerBuilder RateLimitedBy(this RouteHandlerBuilder builder, string policy, IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return LimitOf(app.ServiceProvider.GetRequiredService<IOptions<RateLimitingOptions>>().Value, policy).Enabled
            ? builder.RequireRateLimiting(policy).ProducesProblem(StatusCodes.Status429TooManyRequests)
            : builder;
    }

    private static FixedWindowLimit LimitOf(RateLimitingOptions options, string policy) =>
        policy == JobsPolicy ? options.Jobs : options.Rankings;

    private static RateLimitPartition<string> PerClient(HttpContext context, Func<RateLimitingOptions, FixedWindowLimit> pick)
    {
        FixedWindowLimit limit = pick(context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value);
        string client = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });
    }

    private static async ValueTask OnRejectedAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        HttpContext context = rejected.HttpContext;
        string policy = context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName ?? JobsPolicy;
        FixedWindowLimit limit = LimitOf(context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value, policy);
        int seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan retryAfter)
            ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))
            : Math.Max(1, (int)Math.Ceiling(limit.Window.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"At most {limit.PermitLimit} {(policy == JobsPolicy ? "job submissions" : "ranking requests")} per {limit.Window} from one client ({RateLimitingOptions.Section}:{(policy == JobsPolicy ? "Jobs" : "Rankings")}). Try again in {seconds} s.",
            },
        });
    }

    private sealed class RateLimitingOptionsValidator : IValidateOptions<RateLimitingOptions>
    {
        public ValidateOptionsResult Validate(string? name, RateLimitingOptions options) =>
            options.Check() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
