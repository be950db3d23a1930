using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using RankService.Api.Apis;
using RankService.Ranking.Training;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace RankService.Api.Extensions;

/// <summary>
/// The one place where bad input becomes an answer: every binding, decoding and content-type failure of every endpoint
/// is a 4xx ProblemDetails in the API's words (field names as the client sent them, never .NET type names), with
/// echoed input capped (<see cref="Echo"/>). Nothing here knows a request type's fields: a field added to a body is
/// covered with no change here.
/// </summary>
public static partial class ErrorHandlingExtensions
{
    /// <summary>Longest title or message of any ProblemDetails: the net under every answer, whoever wrote it.</summary>
    private const int MaxMessageLength = 1000;

    /// <summary>ProblemDetails for every error: bad input (unbindable parameters, malformed JSON) is a 4xx, never a 500.</summary>
    public static IHostApplicationBuilder AddProblemHandling(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddProblemDetails(o => o.CustomizeProblemDetails = context => Cap(context.ProblemDetails));
        builder.Services.AddExceptionHandler<BadInputExceptionHandler>();
        // Binding failures throw BadHttpRequestException (with the reason) instead of answering an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(o =>
        {
            JsonSerializerOptions json = o.SerializerOptions;
            json.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            json.Converters.Add(new WireNameJsonConverterFactory()); // before the general one, which would win over the enums' own
            json.Converters.Add(new JsonStringEnumConverter());
            // Strict bodies: a misspelt field ("epoch") is a 400 naming it, not silently ignored; a repeated one is a 400
            // too. Generic, so a field added to a request type is accepted with no change here.
            json.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            json.AllowDuplicateProperties = false;
            // A null for a field declared non-nullable (training.hybridFirst) is a 400 naming the field, not a null that
            // reaches the code behind it; a required constructor parameter left out is a 400 too.
            json.RespectNullableAnnotations = true;
            json.RespectRequiredConstructorParameters = true;
            // ...on the way in only: an answer is never refused for a null the code wrote (that would be a 500).
            json.TypeInfoResolver = (json.TypeInfoResolver ?? new DefaultJsonTypeInfoResolver()).WithAddedModifier(static info =>
            {
                foreach (JsonPropertyInfo property in info.Properties)
                {
                    if (!property.PropertyType.IsValueType || Nullable.GetUnderlyingType(property.PropertyType) is not null)
                    {
                        property.IsGetNullable = true;
                    }
                }
            });
        });
        return builder;
    }

    public static WebApplication UseProblemHandling(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// Refuses a JSON body in a charset other than UTF-8 (415), and turns binding and decoding failures thrown further
    /// in into their 4xx ProblemDetails right here. It sits inside the request log (see
    /// <see cref="LoggingExtensions.UseRequestLogging"/>), so a client's mistake is logged as the 4xx it is, one line
    /// without a stack trace, rather than as an exception answered 500.
    /// </summary>
    public static IApplicationBuilder UseBadInputProblems(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use(async (context, next) =>
        {
            if (UnsupportedCharset(context.Request, out bool utf8) is { } charset)
            {
                await context.WriteProblemAsync(new ProblemDetails
                {
                    Status = StatusCodes.Status415UnsupportedMediaType,
                    Title = "The body's charset is not supported",
                    Detail = $"A JSON body must be UTF-8 (Content-Type: application/json, charset utf-8 or none); got charset '{Echo.Of(charset)}'.",
                });
                return;
            }
            if (utf8)
            {
                // UTF-8 however spelt ("UTF-8", quoted): the JSON reader's own default, without a charset it might misread.
                context.Request.ContentType = MediaTypeHeaderValue.Parse(context.Request.ContentType).MediaType.ToString();
            }
            ProblemDetails? problem;
            try
            {
                await next(context);
                return;
            }
            catch (Exception e) when (!context.Response.HasStarted && (problem = ProblemFor(context, e)) is not null)
            {
                context.Response.Clear();
            }
            await context.WriteProblemAsync(problem);
        });
    }

    /// <summary>
    /// Writes <paramref name="problem"/> with its status through the ProblemDetails service (so it is customized like
    /// every other), or as plain JSON when the client's Accept header rules out every registered writer.
    /// </summary>
    public static async Task WriteProblemAsync(this HttpContext context, ProblemDetails problem)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(problem);
        context.Response.StatusCode = problem.Status ?? StatusCodes.Status400BadRequest;
        var problemContext = new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem };
        if (!await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(problemContext))
        {
            Cap(problem);
            await context.Response.WriteAsJsonAsync(problem, problem.GetType(), (JsonSerializerOptions?)null, "application/problem+json");
        }
    }

    /// <summary>
    /// The charset of a JSON Content-Type when it is not UTF-8 (an empty one included); null when fine or not JSON.
    /// <paramref name="utf8"/>: a JSON Content-Type that names UTF-8 as its charset.
    /// </summary>
    private static string? UnsupportedCharset(HttpRequest request, out bool utf8)
    {
        utf8 = false;
        string? header = request.ContentType;
        if (header is null || !MediaTypeHeaderValue.TryParse(header, out MediaTypeHeaderValue? media))
        {
            return null; // no body type, or one so broken that binding refuses it as not JSON (415)
        }
        bool json = media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
        NameValueHeaderValue? charset = media.Parameters.FirstOrDefault(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase));
        if (!json || charset is null)
        {
            return null;
        }
        string value = HeaderUtilities.RemoveQuotes(charset.Value).ToString();
        utf8 = value.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || value.Equals("utf8", StringComparison.OrdinalIgnoreCase);
        return utf8 ? null : value;
    }

    /// <summary>
    /// The 4xx answer to a bad-input exception, or null for any other exception (a real 500). Binding throws every
    /// request's mistake as <see cref="BadHttpRequestException"/> (a body's JSON error inside it); a bare JsonException
    /// would be the service failing to write its own answer, which is no client's fault.
    /// </summary>
    private static ProblemDetails? ProblemFor(HttpContext context, Exception exception) => exception switch
    {
        BadHttpRequestException { InnerException: JsonException json } => JsonProblem(context, json),
        BadHttpRequestException bad => BindingProblem(bad),
        _ => null,
    };

    /// <summary>A binding failure (route, query, header, body presence or media type) in the API's words.</summary>
    private static ProblemDetails BindingProblem(BadHttpRequestException bad)
    {
        int status = bad.StatusCode;
        Match bind = BindFailure().Match(bad.Message);
        if (bind.Success)
        {
            string name = bind.Groups["name"].Value;
            string message = bind.Groups["lead"].Value switch
            {
                "Failed to bind" => $"{name} must be {Expected(bind.Groups["type"].Value)}; got '{Echo.Of(bind.Groups["value"].Value)}'.",
                "Implicit body inferred for" => "A JSON body is required.",
                _ => $"{name} is required.",
            };
            return Invalid(status, "The request is malformed", message, new() { [name] = [message] });
        }
        Match media = MediaTypeFailure().Match(bad.Message);
        if (media.Success)
        {
            return new ProblemDetails
            {
                Status = status,
                Title = "The body's media type is not supported",
                Detail = $"The body must be {media.Groups["kind"].Value} (Content-Type: {(media.Groups["kind"].Value == "JSON" ? "application/json" : "application/x-www-form-urlencoded")}); got '{Echo.Of(media.Groups["got"].Value)}'.",
            };
        }
        return new ProblemDetails
        {
            Status = status,
            Title = status == StatusCodes.Status413PayloadTooLarge ? "The request body is too large" : "The request is malformed",
            Detail = LooksLikeDotNet(bad.Message) ? null : Echo.Of(bad.Message),
        };
    }

    /// <summary>
    /// A body that is not JSON, or JSON that does not fit the endpoint's body type, named by the field's path as sent
    /// (<c>training.hybridFirst</c>, <c>hiddenSizes[1]</c>).
    /// </summary>
    private static ProblemDetails JsonProblem(HttpContext context, JsonException json)
    {
        if (UnknownField(context, json) is { } unknown)
        {
            string field = Echo.Of(unknown.Field);
            string message = $"Unknown field '{field}'. Known fields: {string.Join(", ", unknown.Known)}.";
            return Invalid(StatusCodes.Status400BadRequest, "The request has an unknown field", "Remove the field or correct its spelling; every known field is listed.", new() { [field] = [message] });
        }
        string path = FieldPath(json.Path);
        string text = json.Message;
        string? problem = null;
        if (Converting().Match(text) is { Success: true } converting)
        {
            problem = path.Length == 0 ? $"The body must be {Expected(converting.Groups["type"].Value)}." : $"{path} must be {Expected(converting.Groups["type"].Value)}.";
        }
        else if (text.Contains("doesn't allow setting null values", StringComparison.Ordinal) || text.Contains("doesn't allow null values", StringComparison.Ordinal))
        {
            problem = $"{(path.Length == 0 ? NameIn(text) : path)} must not be null; leave the field out for its default.";
        }
        else if (text.Contains("missing required properties", StringComparison.Ordinal))
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (Match name in Quoted().Matches(text[text.IndexOf(':', StringComparison.Ordinal)..]))
            {
                string field = Echo.Of(path.Length == 0 ? name.Groups[1].Value : $"{path}.{name.Groups[1].Value}");
                errors[field] = [$"{field} is required."];
            }
            return Invalid(StatusCodes.Status400BadRequest, "The request is missing fields", string.Join(" ", errors.Values.Select(v => v[0])), errors);
        }
        else if (text.Contains("could not be mapped to any .NET member", StringComparison.Ordinal))
        {
            problem = $"Unknown field '{(path.Length == 0 ? NameIn(text) : path)}'.";
        }
        else if (text.StartsWith("Duplicate property", StringComparison.Ordinal))
        {
            // The path may stop at the object holding the repeated field (a JsonElement read whole): name the field in it.
            string name = NameIn(text);
            path = path.Length == 0 ? name : path.EndsWith(name, StringComparison.Ordinal) || name == "A field" ? path : $"{path}.{name}";
            problem = $"{path} appears more than once.";
        }
        if (problem is not null)
        {
            string key = path.Length == 0 ? "body" : path;
            return Invalid(StatusCodes.Status400BadRequest, "The request is malformed", problem, new() { [key] = [problem] });
        }
        // Not JSON at all (a syntax error, invalid UTF-8, too deep): the reader's own message says where, in JSON terms.
        string reason = PathSuffix().Replace(text, "").TrimEnd();
        string at = json.LineNumber is { } line && json.BytePositionInLine is { } position
            ? $" (line {line + 1}, byte {position + 1}{(path.Length == 0 ? "" : $", at {path}")})" : "";
        return new ProblemDetails
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request body is not valid JSON",
            Detail = LooksLikeDotNet(reason) ? $"The body is not valid JSON{at}." : $"The body is not valid JSON{at}: {Echo.Of(reason)}",
        };
    }

    private static HttpValidationProblemDetails Invalid(int status, string title, string detail, Dictionary<string, string[]> errors) =>
        new(errors) { Status = status, Title = title, Detail = detail };

    /// <summary>What a value of a .NET type looks like to a client (<c>int?</c>, <c>System.Nullable`1[System.Int32]</c>: a whole number).</summary>
    private static string Expected(string type)
    {
        string t = type.Trim();
        if (t.StartsWith("Nullable<", StringComparison.Ordinal) && t.EndsWith('>'))
        {
            t = t[9..^1];
        }
        if (t.EndsWith("[]", StringComparison.Ordinal) || t.Contains("List`", StringComparison.Ordinal) || t.Contains("Enumerable`", StringComparison.Ordinal)
            || t.Contains("Collection`", StringComparison.Ordinal) || t.StartsWith("List<", StringComparison.Ordinal) || t.StartsWith("IReadOnlyList<", StringComparison.Ordinal))
        {
            return "an array";
        }
        return t.TrimEnd('?') switch
        {
            var s when s.Contains("Int32", StringComparison.Ordinal) || s == "int" => "a whole number from -2147483648 to 2147483647",
            var s when s.Contains("Int64", StringComparison.Ordinal) || s == "long" => "a whole number from -9223372036854775808 to 9223372036854775807",
            var s when s.Contains("Int16", StringComparison.Ordinal) || s.Contains("Byte", StringComparison.Ordinal) || s is "short" or "byte" or "sbyte" or "uint" or "ulong" or "ushort" => "a whole number",
            var s when s.Contains("Double", StringComparison.Ordinal) || s.Contains("Single", StringComparison.Ordinal) || s.Contains("Decimal", StringComparison.Ordinal) || s is "double" or "float" or "decimal" => "a number",
            var s when s.Contains("Boolean", StringComparison.Ordinal) || s == "bool" => "true or false",
            var s when s.Contains("String", StringComparison.Ordinal) || s == "string" => "a string",
            var s when s.Contains("Guid", StringComparison.Ordinal) => "a GUID",
            var s when s.Contains("Date", StringComparison.Ordinal) || s.Contains("TimeSpan", StringComparison.Ordinal) => "a date or time in ISO 8601 form",
            _ => "a JSON object",
        };
    }

    /// <summary><c>$.training.hybridFirst</c> → <c>training.hybridFirst</c>, <c>$['odd name']</c> → <c>odd name</c>, capped; "" for the root.</summary>
    private static string FieldPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "";
        }
        var sb = new System.Text.StringBuilder();
        int i = path[0] == '$' ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                sb.Append(sb.Length == 0 ? "" : ".").Append(path, i + 1, end - i - 1);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['", StringComparison.Ordinal) && path.IndexOf("']", i + 2, StringComparison.Ordinal) is var close and > 0)
            {
                sb.Append(sb.Length == 0 ? "" : ".").Append(path, i + 2, close - i - 2);
                i = close + 2;
            }
            else if (path[i] == '[' && path.IndexOf(']', i) is var bracket and > 0)
            {
                sb.Append(path, i, bracket - i + 1);
                i = bracket + 1;
            }
            else
            {
                sb.Append(path, i, path.Length - i);
                break;
            }
        }
        return Echo.Of(sb.ToString());
    }

    private static string NameIn(string message) => Quoted().Match(message) is { Success: true } m ? Echo.Of(m.Groups[1].Value) : "A field";

    /// <summary>A .NET type or namespace name, which no answer should show.</summary>
    private static bool LooksLikeDotNet(string text) => DotNetName().IsMatch(text);

    /// <summary>Caps titles, details, field names and messages of every ProblemDetails, whoever wrote it.</summary>
    private static void Cap(ProblemDetails problem)
    {
        problem.Title = CapMessage(problem.Title);
        problem.Detail = CapMessage(problem.Detail);
        if (problem is HttpValidationProblemDetails { Errors.Count: > 0 } validation
            && validation.Errors.Any(e => e.Key.Length > Echo.MaxLength || e.Value.Any(m => m.Length > MaxMessageLength)))
        {
            KeyValuePair<string, string[]>[] errors = [.. validation.Errors];
            validation.Errors.Clear();
            foreach ((string key, string[] messages) in errors)
            {
                string capped = Echo.Of(key);
                validation.Errors[capped] = [.. (validation.Errors.TryGetValue(capped, out string[]? earlier) ? earlier : []), .. messages.Select(m => CapMessage(m)!)];
            }
        }
    }

    private static string? CapMessage(string? text) =>
        text is null || text.Length <= MaxMessageLength ? text : $"{text[..(char.IsHighSurrogate(text[MaxMessageLength - 1]) ? MaxMessageLength - 1 : MaxMessageLength)]}…";

    /// <summary>
    /// The field the body's type does not have, with the fields it does have at that place: the type is walked along
    /// the exception's path (<c>$.training.epoch</c>: the request's <c>training</c> object has no <c>epoch</c>).
    /// </summary>
    private static (string Field, IEnumerable<string> Known)? UnknownField(HttpContext context, JsonException exception)
    {
        if (!exception.Message.Contains("could not be mapped to any .NET member", StringComparison.Ordinal)
            || PathSegments(exception.Path) is not [.., { } field] segments)
        {
            return null;
        }
        // The exception handler has cleared the endpoint by now; its feature keeps the one that failed.
        Endpoint? endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType is not { } type)
        {
            return null;
        }
        JsonSerializerOptions options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        JsonTypeInfo info = options.GetTypeInfo(type);
        foreach (string? segment in segments[..^1])
        {
            Type? next = segment is null
                ? info.ElementType
                : info.Kind == JsonTypeInfoKind.Object ? info.Properties.FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase))?.PropertyType : null;
            if (next is null)
            {
                return null;
            }
            info = options.GetTypeInfo(Nullable.GetUnderlyingType(next) ?? next);
        }
        // A type with extension data (JobRequest) takes any field and names the unknown ones itself.
        if (info.Kind != JsonTypeInfoKind.Object
            || info.Properties.Any(p => p.IsExtensionData || string.Equals(p.Name, field, StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }
        return (FieldPath(exception.Path), info.Properties.Select(p => p.Name));
    }

    /// <summary>The property names along a JSON path, null for an array index; null when the path does not parse.</summary>
    private static List<string?>? PathSegments(string? path)
    {
        if (path is null || !path.StartsWith('$'))
        {
            return null;
        }
        var segments = new List<string?>();
        int i = 1;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                int end = path.IndexOfAny(['.', '['], i + 1);
                end = end < 0 ? path.Length : end;
                segments.Add(path[(i + 1)..end]);
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['", StringComparison.Ordinal) && path.IndexOf("']", i + 2, StringComparison.Ordinal) is var close and > 0)
            {
                segments.Add(path[(i + 2)..close]);
                i = close + 2;
            }
            else if (path[i] == '[' && path.IndexOf(']', i) is var bracket and > 0)
            {
                segments.Add(null);
                i = bracket + 1;
            }
            else
            {
                return null;
            }
        }
        return segments;
    }

    [GeneratedRegex("""^(?<lead>Failed to bind|Required|Failed to read|Implicit body inferred for) parameter "(?<type>[^"]*) (?<name>[^" ]+)"(?: from "(?<value>.*)"\.)?""", RegexOptions.Singleline)]
    private static partial Regex BindFailure();

    [GeneratedRegex("""^Expected a supported (?<kind>JSON|form) media type but got "(?<got>.*)"\.""", RegexOptions.Singleline)]
    private static partial Regex MediaTypeFailure();

    [GeneratedRegex("""could not be converted to (?<type>\S+?)\.(?: Path:|$)""", RegexOptions.Singleline)]
    private static partial Regex Converting();

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex(""" ?(Path: .*?)?\s*(\| )?LineNumber: \d+ \| BytePositionInLine: \d+\.?""", RegexOptions.Singleline)]
    private static partial Regex PathSuffix();

    [GeneratedRegex("""\b(System|Microsoft|RankService|Hangfire)\.[A-Z]|`\d|\.NET\b""")]
    private static partial Regex DotNetName();

    /// <summary>The same mapping for a bad-input exception thrown outside <see cref="UseBadInputProblems"/>.</summary>
    private sealed class BadInputExceptionHandler : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (ProblemFor(httpContext, exception) is not { } problem)
            {
                return false;
            }
            await httpContext.WriteProblemAsync(problem);
            return true;
        }
    }
}
