using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using RankService.Api.Metrics;
using RankService.Api.Options;
using RankService.Api.Security;

namespace RankService.Api.Extensions;

public static class MetricsExtensions
{
    /// <summary>The scrape path, as Prometheus configurations and the dashboard expect it.</summary>
    public const string Path = "/metrics";

    /// <summary>
    /// ASP.NET Core's meters that are exported: request duration per route (Hosting), connections (Kestrel), unhandled
    /// exceptions (Diagnostics), authentication and authorization outcomes. Routing's match attempts and rate limiting's
    /// lease counters are not: they record on every request what the request duration's route and status already say,
    /// and each recording is CPU taken from a ranking (bench/RESULTS.md, "Plain ranking").
    /// </summary>
    private static readonly string[] AspNetCoreMeters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.Authentication", "Microsoft.AspNetCore.Authorization",
    ];

    /// <summary>Hosting's in-flight request counter, dropped for the same reason: two recordings per request.</summary>
    private const string ActiveRequests = "http.server.active_requests";

    /// <summary>
    /// The <c>Metrics</c> section (validated at start-up), <see cref="ServiceMetrics"/>, and OpenTelemetry metrics:
    /// ASP.NET Core's request duration per route template (<see cref="AspNetCoreMeters"/>), the .NET runtime's series
    /// and the service's own meter, exported for Prometheus.
    /// </summary>
    public static IHostApplicationBuilder AddServiceMetrics(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddOptions<MetricsOptions>().Bind(builder.Configuration.GetSection(MetricsOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MetricsOptions>, MetricsOptionsValidator>();
        builder.Services.AddSingleton<ServiceMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => ((IDeferredMeterProviderBuilder)metrics
            .AddMeter(AspNetCoreMeters)
            .AddRuntimeInstrumentation()
            .AddMeter(ServiceMetrics.MeterName)
            // Every scrape collects afresh: the gauges read the job records and registry as they are now.
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0))
            // Meters from another host's IMeterFactory share names with this host's (several hosts in one process, as
            // in the tests): only this host's and process-wide ones (the runtime's) are exported.
            .Configure((provider, b) =>
            {
                IMeterFactory own = provider.GetRequiredService<IMeterFactory>();
                b.AddView(instrument => instrument.Meter.Scope is IMeterFactory other && !ReferenceEquals(other, own) ? MetricStreamConfiguration.Drop
                    : instrument.Name == ActiveRequests ? MetricStreamConfiguration.Drop : null);
            }));
        return builder;
    }

    /// <summary>
    /// <c>GET /metrics</c> in Prometheus text format, unless <see cref="MetricsOptions.Enabled"/> is off. It answers
    /// loopback clients and, when configured, <see cref="MetricsOptions.AllowedNetworks"/> or anyone
    /// (<see cref="MetricsOptions.AllowedFromAnyAddress"/>); other clients get 403 ProblemDetails. It never needs a key,
    /// has no rate limit and is left out of the OpenAPI document.
    /// </summary>
    public static WebApplication MapServiceMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        MetricsOptions options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (!options.Enabled)
        {
            return app;
        }
        IReadOnlyList<IPNetwork> networks = options.Networks();
        // Created now, not at a first epoch: its gauges (jobs, serving models) are observed from the first scrape.
        app.Services.GetRequiredService<ServiceMetrics>();
        // The exporter's endpoint is a plain request delegate: the guard runs in its own branch, before the exporter.
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null, configureBranchedPipeline: branch => branch.Use(async (context, next) =>
        {
            if (!options.AllowedFromAnyAddress && !Allowed(context, networks))
            {
                await context.WriteProblemAsync(new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "Metrics are not open to this address",
                    Detail = $"{Path} answers this machine (loopback) only. To let a Prometheus server elsewhere scrape it, add its network to {MetricsOptions.Section}:{nameof(MetricsOptions.AllowedNetworks)} or set {MetricsOptions.Section}:{nameof(MetricsOptions.AllowedFromAnyAddress)}=true.",
                });
                return;
            }
            await next(context);
        }), optionsName: null)
            .WithTags("Metrics")
            .ExcludeFromDescription();
        return app;
    }

    private static bool Allowed(HttpContext context, IReadOnlyList<IPNetwork> networks)
    {
        if (ApiKeyVerifier.IsLoopback(context))
        {
            return true;
        }
        if (context.Connection.RemoteIpAddress is not { } address)
        {
            return false;
        }
        // A dual-stack socket shows an IPv4 client as ::ffff:a.b.c.d.
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        return networks.Any(n => n.Contains(address));
    }

    private sealed class MetricsOptionsValidator : IValidateOptions<MetricsOptions>
    {
        public ValidateOptionsResult Validate(string? name, MetricsOptions options) =>
            options.Check() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
