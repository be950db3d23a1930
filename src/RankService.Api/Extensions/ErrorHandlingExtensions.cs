using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

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
        builder.Services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o =>
        {
            o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals;
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
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

    /// <summary>Maps <see cref="BadHttpRequestException"/> and <see cref="JsonException"/> to a 400 ProblemDetails naming the problem.</summary>
    private sealed class BadInputExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
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

        private static string Describe(JsonException json) =>
            json.Path is null ? json.Message : $"The JSON at '{json.Path}' is not valid: {json.Message}";
    }
}
