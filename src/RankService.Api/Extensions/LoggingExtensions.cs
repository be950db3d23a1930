using Serilog;
using Serilog.Events;

namespace RankService.Api.Extensions;

public static class LoggingExtensions
{
    /// <summary>Serilog from the <c>Serilog</c> section (console and rolling file sinks), with log-context properties such as JobId.</summary>
    public static IHostApplicationBuilder AddSerilogLogging(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext());
        return builder;
    }

    /// <summary>
    /// One structured line per request: method, path, status, elapsed time. Successful rankings are logged at Debug
    /// (off by default): at 20,000 requests/s an Information line each (console + file) costs more CPU than the
    /// ranking itself. Their failures, and every other route, stay at Information (Error for 5xx and exceptions).
    /// </summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseSerilogRequestLogging(options => options.GetLevel = RequestLevel);
        return app;
    }

    internal static LogEventLevel RequestLevel(HttpContext context, double elapsedMs, Exception? error)
    {
        if (error is not null || context.Response.StatusCode >= 500)
        {
            return LogEventLevel.Error;
        }
        bool ranking = context.GetEndpoint()?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName == "GetRanking";
        return ranking && context.Response.StatusCode < 400 ? LogEventLevel.Debug : LogEventLevel.Information;
    }
}
