using Hangfire;
using Hangfire.Dashboard;
using Hangfire.InMemory;
using Microsoft.Extensions.Options;
using RankService.Api.Jobs;
using RankService.Api.Options;
using RankService.Api.Security;
using RankService.Api.Serving;

namespace RankService.Api.Extensions;

public static class JobsExtensions
{
    /// <summary>
    /// Job store over the artifacts folder, Hangfire on in-memory storage with one server for the training queue
    /// (Jobs:WorkerCount workers), and a host shutdown timeout long enough for a job to stop cleanly.
    /// </summary>
    public static IHostApplicationBuilder AddTrainingJobs(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobCancellations>();
        services.AddSingleton<JobService>();
        services.AddSingleton<IDatasetProvider, MovieLensDatasetProvider>();
        services.AddHttpClient(nameof(MovieLensDatasetProvider), c => c.Timeout = TimeSpan.FromMinutes(10));
        services.AddTransient<TrainingJob>();

        // Before the Hangfire server: jobs an earlier process left running are failed before any worker starts.
        services.AddHostedService<StartupService>();

        // Storage per host (not the static JobStorage.Current), so each host, and each test host, has its own queue.
        services.AddSingleton<JobStorage>(_ => new InMemoryStorage(new InMemoryStorageOptions()));
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        services.AddHangfireServer((provider, server) =>
        {
            JobsOptions jobs = provider.GetRequiredService<IOptions<JobsOptions>>().Value;
            server.Queues = [JobsOptions.TrainingQueue];
            server.WorkerCount = jobs.WorkerCount;
            server.ShutdownTimeout = jobs.ShutdownTimeout;
            server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:training";
        });
        services.AddOptions<HostOptions>().Configure<IOptions<JobsOptions>>((host, jobs) =>
            host.ShutdownTimeout = jobs.Value.ShutdownTimeout + TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>
    /// The Hangfire dashboard at <c>/hangfire</c>: loopback requests only, unless Jobs:DashboardLocalOnly is false, when
    /// other machines may open it with a valid <c>X-Api-Key</c> header (start-up refuses that setting without keys).
    /// </summary>
    public static WebApplication UseJobsDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        bool localOnly = app.Services.GetRequiredService<IOptions<JobsOptions>>().Value.DashboardLocalOnly;
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new DashboardAccessFilter(localOnly, app.Services.GetRequiredService<ApiKeyVerifier>())],
            DisplayStorageConnectionString = false,
        });
        return app;
    }

    private sealed class DashboardAccessFilter(bool localOnly, ApiKeyVerifier keys) : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            HttpContext http = context.GetHttpContext();
            return ApiKeyVerifier.IsLoopback(http) || (!localOnly && keys.HasKeys && keys.Verify(ApiKeyVerifier.KeyOf(http.Request)));
        }
    }
}
