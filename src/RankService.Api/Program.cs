using RankService.Api.Apis;
using RankService.Api.Extensions;

// The content root is the build output, which holds a copy of the repository's appsettings.json; relative data and
// artifacts paths in it start at the working directory (the repository root under `dotnet run`, see the csproj).
WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.AddSerilogLogging();
builder.AddRankServiceOptions();
builder.AddProblemHandling();
builder.AddApiKeys();
builder.AddRateLimits();
builder.AddApiDocumentation();
builder.AddTrainingJobs();
builder.AddServing();
builder.AddServiceMetrics();
builder.AddLiveDatasets();

WebApplication app = builder.Build();

app.UseProblemHandling();
app.UseJobsPage();
app.UseRequestLogging();
app.UseRequestBodyLimit();
app.UseRateLimits();
app.UseApiKeys();
app.UseApiDocumentation();
app.UseJobsDashboard();

if (app.ServesHttpApi()) // a Service:Role Worker node answers health checks only
{
    app.MapJobsApi();
    app.MapRankingApi();
    app.MapRecommendationsApi();
    app.MapModelsApi();
    app.MapSchedulesApi();
    app.MapDatasetsApi();
}
app.MapHealthApi();
app.MapServiceMetrics(); // every role: a worker's epochs are measured where they run

app.Run();

/// <summary>The web host's entry point (public for WebApplicationFactory in the tests).</summary>
public partial class Program;
