using Serilog;
using Serilog.Events;

namespace RankService.Api.Extensions;

public static class LoggingExtensions
{
    /// <summary>
    /// Serilog from the <c>Serilog</c> section (console and rolling file sinks), with log-context properties such as
    /// JobId. The host owns its logger and leaves the static <c>Log.Logger</c> alone: otherwise every host in a process
    /// (tests start many) writes through whichever logger was set last, and one host's shutdown closes another's sinks.
    /// </summary>
    public static IHostApplicationBuilder AddSerilogLogging(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext(), preserveStaticLogger: true);
        return builder;
    }

    /// <summary>
    /// One structured line per request: method, path, status, elapsed time. Successful reads of jobs and models log at
    /// Debug: the jobs page polls them every second or so and would bury everything else. Successful rankings log at
    /// Debug too: at 20,000 requests/s an Information line each (console + file) costs more CPU than the ranking itself.
    /// Failures stay at Information (Error for 5xx and exceptions).
    /// </summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseSerilogRequestLogging(o =>
        {
            o.Logger = app.Services.GetRequiredService<Serilog.ILogger>(); // the host's own logger, not the static one
            o.GetLevel = (http, _, error) =>
                error is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error
                : IsPoll(http) || IsRanking(http) ? LogEventLevel.Debug
                : LogEventLevel.Information;
        });
        return app;
    }

    private static bool IsPoll(HttpContext http) =>
        HttpMethods.IsGet(http.Request.Method) && http.Response.StatusCode < 400
        && (http.Request.Path.StartsWithSegments("/jobs") || http.Request.Path.StartsWithSegments("/models"));

    private static bool IsRanking(HttpContext http) =>
        http.Response.StatusCode < 400
        && http.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == "GetRanking";
}
