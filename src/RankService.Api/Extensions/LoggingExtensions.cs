using Serilog;

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

    /// <summary>One structured line per request: method, path, status, elapsed time.</summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseSerilogRequestLogging();
        return app;
    }
}
