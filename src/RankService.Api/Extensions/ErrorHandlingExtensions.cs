using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace RankService.Api.Extensions;

public static class ErrorHandlingExtensions
{
    /// <summary>ProblemDetails for every error: bad input (unbindable parameters, malformed JSON) is a 400, never a 500.</summary>
    public static IHostApplicationBuilder AddProblemHandling(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<BadInputExceptionHandler>();
        // Binding failures throw BadHttpRequestException (with the reason) instead of answering an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
            // Strict bodies: a misspelt field ("epoch") is a 400 naming it, not silently ignored; a repeated one is a 400
            // too. Generic, so a field added to a request type is accepted with no change here.
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
            o.SerializerOptions.AllowDuplicateProperties = false;
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
    /// Maps <see cref="BadHttpRequestException"/> (its own status: 400, 413 for a body over the limit, 415) and
    /// <see cref="JsonException"/> to ProblemDetails naming the problem; an unknown field is a validation error naming
    /// it and the known fields.
    /// </summary>
    private sealed class BadInputExceptionHandler(IProblemDetailsService problems, IOptions<JsonOptions> json) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is BadHttpRequestException { InnerException: JsonException inner } && UnknownField(httpContext, inner) is { } unknown)
            {
                httpContext.Response.StatusCode = StatusCodes.Status400BadRequest;
                return await problems.TryWriteAsync(new ProblemDetailsContext
                {
                    HttpContext = httpContext,
                    Exception = exception,
                    ProblemDetails = new HttpValidationProblemDetails(new Dictionary<string, string[]>
                    {
                        [unknown.Field] = [$"Unknown field '{Apis.Echo.Of(unknown.Field)}'. Known fields: {string.Join(", ", unknown.Known)}."],
                    })
                    {
                        Status = StatusCodes.Status400BadRequest,
                        Title = "The request has an unknown field",
                        Detail = "Remove the field or correct its spelling; every known field is listed.",
                    },
                });
            }
            (int status, string detail) = exception switch
            {
                BadHttpRequestException { InnerException: JsonException json } bad => (bad.StatusCode, $"{bad.Message} {Describe(json)}"),
                BadHttpRequestException bad => (bad.StatusCode, bad.Message),
                JsonException json => (StatusCodes.Status400BadRequest, Describe(json)),
                _ => (0, ""),
            };
            if (status == 0)
            {
                return false;
            }
            httpContext.Response.StatusCode = status;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                Exception = exception,
                ProblemDetails = new ProblemDetails { Status = status, Title = "The request is malformed", Detail = detail },
            });
        }

        /// <summary>The top-level property the body's type does not have, from the exception's path (<c>$.epoch</c>).</summary>
        private (string Field, IEnumerable<string> Known)? UnknownField(HttpContext context, JsonException exception)
        {
            string? path = exception.Path;
            string? field = path switch
            {
                ['$', '.', .. string rest] when rest.IndexOfAny(['.', '[']) < 0 => rest,
                ['$', '[', '\'', .. string rest] when rest.EndsWith("']", StringComparison.Ordinal) && !rest[..^2].Contains("']", StringComparison.Ordinal) => rest[..^2],
                _ => null,
            };
            // The exception handler has cleared the endpoint by now; its feature keeps the one that failed.
            Endpoint? endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
            Type? type = endpoint?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
            if (field is null || type is null)
            {
                return null;
            }
            System.Text.Json.Serialization.Metadata.JsonTypeInfo info = json.Value.SerializerOptions.GetTypeInfo(type);
            // A type with extension data (JobRequest) takes any field and names the unknown ones itself.
            if (info.Kind != System.Text.Json.Serialization.Metadata.JsonTypeInfoKind.Object
                || info.Properties.Any(p => p.IsExtensionData || string.Equals(p.Name, field, StringComparison.OrdinalIgnoreCase)))
            {
                return null;
            }
            return (field, info.Properties.Select(p => p.Name));
        }

        private static string Describe(JsonException json) =>
            json.Path is null ? json.Message : $"The JSON at '{json.Path}' is not valid: {json.Message}";
    }
}
