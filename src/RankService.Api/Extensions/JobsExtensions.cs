using Hangfire;
using Hangfire.Common;
using Hangfire.Dashboard;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.Options;
using RankService.Api.Jobs;
using RankService.Api.Options;
using RankService.Api.Security;
using RankService.Api.Serving;
using RankService.Ranking.Training;

namespace RankService.Api.Extensions;

public static class JobsExtensions
{
    /// <summary>
    /// Job store over the artifacts folder, Hangfire on InMemory or PostgreSql storage (Jobs:Storage) with one server
    /// for the training queue (Jobs:WorkerCount workers) unless Service:Role is Api, the watcher that serves models
    /// other nodes trained, and a host shutdown timeout long enough for a job to stop cleanly.
    /// </summary>
    public static IHostApplicationBuilder AddTrainingJobs(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<JobLifecycle>();
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobCancellations>();
        services.AddSingleton<JobService>();
        services.AddSingleton<PromotionGuard>();
        services.AddSingleton<SearchCoordinator>();
        services.AddSingleton<MovieLensDatasetProvider>();
        services.AddSingleton<IDatasetProvider, Datasets.LiveDatasetProvider>();
        services.AddHttpClient(nameof(MovieLensDatasetProvider), c => c.Timeout = TimeSpan.FromMinutes(10));
        services.AddTransient<TrainingJob>();
        services.AddTransient<ScheduledTraining>();

        // Before the Hangfire server: jobs an earlier process left running are failed before any worker starts.
        services.AddHostedService<StartupService>();

        // Storage per host (not the static JobStorage.Current), so each host, and each test host, has its own queue.
        services.AddSingleton<JobStorage>(provider => CreateStorage(provider.GetRequiredService<IOptions<JobsOptions>>().Value));
        // Before AddHangfire, which keeps a filter provider already registered: job records follow Hangfire's deletes and failures.
        services.AddSingleton<HangfireStateFilter>();
        services.AddSingleton<IJobFilterProvider, HangfireStateFilter.Provider>();
        services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        // An api node only enqueues; worker and all-in-one nodes run the training queue.
        if (builder.Configuration.GetSection(ServiceOptions.Section).Get<ServiceOptions>() is not { RunsJobs: false })
        {
            services.AddHangfireServer((provider, server) =>
            {
                JobsOptions jobs = provider.GetRequiredService<IOptions<JobsOptions>>().Value;
                // Once, before any worker trains: the thread count is the process's, not a job's (see TorchThreads).
                TorchThreads.UseForProcess(jobs.TrainingThreads);
                server.Queues = [JobsOptions.TrainingQueue];
                server.WorkerCount = jobs.WorkerCount;
                server.ShutdownTimeout = jobs.ShutdownTimeout;
                server.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}:training";
            });
        }
        services.AddHostedService<ModelWatcher>();
        services.AddOptions<HostOptions>().Configure<IOptions<JobsOptions>>((host, jobs) =>
            host.ShutdownTimeout = jobs.Value.ShutdownTimeout + TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>
    /// InMemory, or PostgreSql with the schema created on first start and a sliding invisibility timeout: a running
    /// job's heartbeat keeps it from other workers, and a killed worker's job is handed out again after the timeout.
    /// </summary>
    private static JobStorage CreateStorage(JobsOptions jobs)
    {
        if (jobs.Storage == JobStorageKind.InMemory)
        {
            return new InMemoryStorage(new InMemoryStorageOptions());
        }
        var options = new PostgreSqlStorageOptions
        {
            PrepareSchemaIfNecessary = true,
            SchemaName = jobs.SchemaName,
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = jobs.InvisibilityTimeout,
            QueuePollInterval = jobs.QueuePollInterval,
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(jobs.ConnectionString!, options), options);
    }

    /// <summary>
    /// The Hangfire dashboard at <c>/hangfire</c>: loopback requests only, unless Jobs:DashboardLocalOnly is false, when
    /// other machines may open it with a valid <c>X-Api-Key</c> header (start-up refuses that setting without keys).
    /// Its posts from another site's page are refused before this (<see cref="SecurityExtensions.UseApiKeys"/>): the
    /// dashboard has no anti-forgery token of its own.
    /// </summary>
    public static WebApplication UseJobsDashboard(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        bool localOnly = app.Services.GetRequiredService<IOptions<JobsOptions>>().Value.DashboardLocalOnly;
        // The dashboard's actions (and its /stats, whatever the method) read a form; any other body made Hangfire's form
        // reader throw, a 500. That one failure is the client's: 415.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/hangfire"), branch => branch.Use(async (context, next) =>
        {
            try
            {
                await next(context);
                return;
            }
            catch (InvalidOperationException e) when (!context.Response.HasStarted && !context.Request.HasFormContentType
                && e.Message.StartsWith("Incorrect Content-Type", StringComparison.Ordinal))
            {
                context.Response.Clear();
            }
            await context.WriteProblemAsync(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "The body's media type is not supported",
                Detail = "The dashboard's actions take a form body (Content-Type: application/x-www-form-urlencoded).",
            });
        }));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new DashboardAccessFilter(localOnly, app.Services.GetRequiredService<ApiKeyVerifier>())],
            DisplayStorageConnectionString = false,
        });
        return app;
    }

    /// <summary>False on a Service:Role Worker node, which maps no jobs, rankings or models endpoints.</summary>
    public static bool ServesHttpApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IOptions<ServiceOptions>>().Value.ServesHttpApi;
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
