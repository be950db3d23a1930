using System.Diagnostics;
using Serilog;
using Serilog.Events;

namespace RankService.Api.Extensions;

public static class LoggingExtensions
{
    /// <summary>
    /// Serilog from the <c>Serilog</c> section (console and rolling file sinks), with log-context properties such as
    /// JobId. The host owns its logger and leaves the static <c>Log.Logger</c> alone: otherwise every host in a process
    /// (tests start many) writes through whichever logger was set last, and one host's shutdown closes another's sinks.
    /// Loggers are made once per category (<see cref="CachingLoggerFactory"/>), not on every request.
    /// </summary>
    public static IHostApplicationBuilder AddSerilogLogging(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .Enrich.With<ControlCharacterEscaper>(), preserveStaticLogger: true);
        CachingLoggerFactory.Decorate(builder.Services);
        return builder;
    }

    /// <summary>
    /// One structured line per request: method, path, status, elapsed time. Successful reads of jobs and models log at
    /// Debug (scrapes of /metrics too): the jobs page polls them every second or so and would bury everything else.
    /// Successful rankings (every endpoint marked <see cref="Apis.RankingEndpoint"/>: user rankings, similar items,
    /// popular and latest lists, sessions, re-ranking, batches) log at Debug too: at 20,000 requests/s an Information
    /// line each (console + file) costs more CPU than the ranking itself.
    /// Client errors (4xx, bad input included) are one Information line without a stack trace: bad input is mapped to
    /// its 4xx inside this middleware (<see cref="ErrorHandlingExtensions.UseBadInputProblems"/>), so it never passes
    /// through as an exception logged "responded 500". Error is for 5xx and exceptions only.
    /// </summary>
    public static WebApplication UseRequestLogging(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // The host's own logger, not the static one. Serilog.AspNetCore's request logging middleware wrote the same line,
        // but opened a diagnostic-context collection (a dictionary and an async-local) on every request for enrichment
        // this service never uses: a cost every ranking paid (bench/RESULTS.md, "Plain ranking").
        Serilog.ILogger logger = app.Services.GetRequiredService<Serilog.ILogger>().ForContext(Serilog.Core.Constants.SourceContextPropertyName, RequestLogSource);
        app.Use(async (context, next) =>
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
            }
            catch (Exception error) when (LogRequest(logger, context, start, error))
            {
                // Never reached: LogRequest answers false, so the exception goes on (to the exception handler) with its stack.
            }
            LogRequest(logger, context, start, null);
        });
        app.UseBadInputProblems();
        return app;
    }

    /// <summary>The SourceContext of the request lines (for level overrides in the Serilog section).</summary>
    public const string RequestLogSource = "RankService.Api.Requests";

    /// <summary>Writes the request's line at its level, when that level is on; always false (an exception filter).</summary>
    private static bool LogRequest(Serilog.ILogger logger, HttpContext http, long start, Exception? error)
    {
        int status = error is null ? http.Response.StatusCode : StatusCodes.Status500InternalServerError;
        LogEventLevel level =
            error is not null || status >= 500 && status != StatusCodes.Status503ServiceUnavailable ? LogEventLevel.Error
            // 503 is the service's state (no model trained yet), not a failure of the request or of the code: Warning.
            : status == StatusCodes.Status503ServiceUnavailable ? LogEventLevel.Warning
            : IsPoll(http) || IsRanking(http) ? LogEventLevel.Debug
            : LogEventLevel.Information;
        if (logger.IsEnabled(level))
        {
            // The path cut to Echo's length: an 8 KB request line would otherwise be an 8 KB log line.
            logger.Write(level, error, "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0000} ms",
                http.Request.Method, Apis.Echo.Of(http.Request.Path.Value), status, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return false;
    }

    private static bool IsPoll(HttpContext http) =>
        HttpMethods.IsGet(http.Request.Method) && http.Response.StatusCode < 400
        && (http.Request.Path.StartsWithSegments("/jobs") || http.Request.Path.StartsWithSegments("/models")
            || http.Request.Path.StartsWithSegments(MetricsExtensions.Path)); // Prometheus scrapes every 15 s

    private static bool IsRanking(HttpContext http) =>
        http.Response.StatusCode < 400 && http.GetEndpoint()?.Metadata.GetMetadata<Apis.RankingEndpoint>() is not null;

    /// <summary>
    /// Escapes control characters (CR, LF, ESC, ...) and Unicode line and direction controls in every string property,
    /// so text from a request (a path with <c>%0d%0a</c>, an ANSI escape in a header) can neither forge a log line
    /// nor drive the terminal. Runs only for events that pass the level filter.
    /// </summary>
    private sealed class ControlCharacterEscaper : Serilog.Core.ILogEventEnricher
    {
        public void Enrich(LogEvent logEvent, Serilog.Core.ILogEventPropertyFactory propertyFactory)
        {
            List<LogEventProperty>? escaped = null;
            foreach ((string name, LogEventPropertyValue value) in logEvent.Properties)
            {
                if (Escape(value) is { } replaced)
                {
                    (escaped ??= []).Add(new LogEventProperty(name, replaced));
                }
            }
            escaped?.ForEach(logEvent.AddOrUpdateProperty);
        }

        /// <summary>The escaped value, or null when nothing in it needed escaping.</summary>
        private static LogEventPropertyValue? Escape(LogEventPropertyValue value)
        {
            switch (value)
            {
                case ScalarValue { Value: string text } when NeedsEscaping(text):
                    return new ScalarValue(EscapeText(text));
                case SequenceValue sequence:
                    LogEventPropertyValue?[] items = [.. sequence.Elements.Select(Escape)];
                    return items.Any(i => i is not null) ? new SequenceValue(items.Select((e, i) => e ?? sequence.Elements[i])) : null;
                case StructureValue structure:
                    LogEventPropertyValue?[] props = [.. structure.Properties.Select(p => Escape(p.Value))];
                    return props.Any(p => p is not null)
                        ? new StructureValue(structure.Properties.Select((p, i) => props[i] is { } e ? new LogEventProperty(p.Name, e) : p), structure.TypeTag)
                        : null;
                case DictionaryValue dictionary:
                    var entries = dictionary.Elements.Select(kv => (Key: kv.Key, Value: Escape(kv.Value))).ToList();
                    return entries.Any(e => e.Value is not null)
                        ? new DictionaryValue(dictionary.Elements.Select((kv, i) => new KeyValuePair<ScalarValue, LogEventPropertyValue>(kv.Key, entries[i].Value ?? kv.Value)))
                        : null;
                default:
                    return null;
            }
        }

        private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

        private static bool NeedsEscaping(string text)
        {
            foreach (char c in text)
            {
                if (IsUnsafe(c))
                {
                    return true;
                }
            }
            return false;
        }

        internal static string EscapeText(string text)
        {
            var sb = new System.Text.StringBuilder(text.Length + 16);
            foreach (char c in text)
            {
                _ = c switch
                {
                    '\r' => sb.Append("\\r"),
                    '\n' => sb.Append("\\n"),
                    '\t' => sb.Append("\\t"),
                    _ when IsUnsafe(c) => sb.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)),
                    _ => sb.Append(c),
                };
            }
            return sb.ToString();
        }
    }
}
