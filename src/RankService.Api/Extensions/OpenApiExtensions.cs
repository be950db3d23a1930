using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using RankService.Api.Options;
using RankService.Api.Security;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace RankService.Api.Extensions;

public static class OpenApiExtensions
{
    /// <summary>The OpenAPI document from the endpoints' declarations and the XML doc comments (summaries, examples).</summary>
    public static IHostApplicationBuilder AddApiDocumentation(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "RankService",
                Version = "v1",
                Description = "Train learning-to-rank models on MovieLens (POST /jobs), follow them, and rank movies for users from the best model of each data set.",
            });
            string xml = Path.Combine(AppContext.BaseDirectory, $"{typeof(Program).Assembly.GetName().Name}.xml");
            if (File.Exists(xml))
            {
                o.IncludeXmlComments(xml);
            }
            o.AddSecurityDefinition(ApiKeyAuthenticationHandler.SchemeName, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = SecurityOptions.ApiKeyHeader,
                Description = "An API key; the service is configured with its SHA-256 (Security:ApiKeyHashes). With no keys configured, only requests from the service's own machine are accepted.",
            });
            o.OperationFilter<ApiKeyOperationFilter>();
        });
        return builder;
    }

    /// <summary>The document at <c>/swagger/v1/swagger.json</c> and Swagger UI at <c>/swagger</c>.</summary>
    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseSwagger();
        app.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "RankService v1"));
        return app;
    }

    /// <summary>Marks the operations that require a key (those with an authorization policy), so Swagger UI sends it.</summary>
    private sealed class ApiKeyOperationFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, context.Document)] = [] }];
            }
        }
    }
}
