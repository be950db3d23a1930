using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using RankService.Api.Jobs;
using RankService.Api.Options;
using RankService.Api.Security;
using RankService.Ranking.Training;
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
            o.SchemaFilter<TrainingOptionsSchemaFilter>();
        });
        return builder;
    }

    /// <summary>
    /// The document at <c>/swagger/v1/swagger.json</c> and Swagger UI at <c>/swagger</c>, on a branch for paths under
    /// <c>/swagger</c>: as plain middleware each matched every request's path (a route template, a regular expression),
    /// a cost every ranking paid.
    /// </summary>
    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(static context => context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase), branch =>
        {
            branch.UseSwagger();
            branch.UseSwaggerUI(o => o.SwaggerEndpoint("/swagger/v1/swagger.json", "RankService v1"));
        });
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

    /// <summary>
    /// The training options in the schema, from the one catalog: every option is a top-level field of the
    /// <c>POST /jobs</c> body (read as extension data, so the type does not list them) and a field of a posted
    /// <c>training</c> config, each with its type, description, range or allowed values, and default.
    /// </summary>
    private sealed class TrainingOptionsSchemaFilter : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema target || (context.Type != typeof(JobRequest) && context.Type != typeof(TrainingOptions)))
            {
                return;
            }
            bool request = context.Type == typeof(JobRequest);
            target.Properties ??= new Dictionary<string, IOpenApiSchema>();
            if (request)
            {
                target.Properties.Remove("options");
                target.AdditionalProperties = null;
                target.AdditionalPropertiesAllowed = false;
                string? description = target.Properties.TryGetValue("training", out IOpenApiSchema? training) ? training.Description : null;
                target.Properties["training"] = new OpenApiSchema
                {
                    Description = description,
                    AllOf = [context.SchemaGenerator.GenerateSchema(typeof(TrainingOptions), context.SchemaRepository)],
                };
            }
            foreach (TrainingOptionDescriptor option in TrainingOptionCatalog.Options.Where(o => !(request && o.HostOnly)))
            {
                target.Properties[option.JsonName] = Describe(option);
            }
        }

        private static OpenApiSchema Describe(TrainingOptionDescriptor option)
        {
            bool list = option.Kind == TrainingOptionKind.IntegerList;
            string? min = option.Min is { } lo ? TrainingOptionCatalog.Number(lo) : null;
            string? max = option.Max is { } hi ? TrainingOptionCatalog.Number(hi) : null;
            return new OpenApiSchema
            {
                Type = option.Kind switch
                {
                    TrainingOptionKind.WholeNumber => JsonSchemaType.Integer,
                    TrainingOptionKind.Number => JsonSchemaType.Number,
                    TrainingOptionKind.Boolean => JsonSchemaType.Boolean,
                    TrainingOptionKind.Text or TrainingOptionKind.Choice => JsonSchemaType.String,
                    _ => JsonSchemaType.Array,
                },
                Format = option.Kind switch
                {
                    TrainingOptionKind.WholeNumber => "int32",
                    TrainingOptionKind.Number => "double",
                    _ => null,
                },
                Description = option.Describe(),
                Minimum = list ? null : min,
                Maximum = list ? null : max,
                Items = list ? new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = min, Maximum = max } : null,
                MaxItems = list && option.MaxItems > 0 ? option.MaxItems : null,
                Enum = option.Choices?.Select(c => (JsonNode)JsonValue.Create(c)).ToList(),
                Default = JsonSerializer.SerializeToNode(option.DefaultValue),
            };
        }
    }
}
