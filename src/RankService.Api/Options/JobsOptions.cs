using System.ComponentModel.DataAnnotations;

namespace RankService.Api.Options;

/// <summary>Hangfire and the training queue (section <c>Jobs</c>).</summary>
public sealed class JobsOptions
{
    public const string Section = "Jobs";

    /// <summary>The Hangfire queue that only training jobs use.</summary>
    public const string TrainingQueue = "training";

    /// <summary>Training jobs that run at once; each uses every core it is given, so 1 is usually right.</summary>
    [Range(1, 64)]
    public int WorkerCount { get; set; } = 1;

    /// <summary>How long shutdown waits for a running job to stop (it stops within one batch and writes its status).</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Serve the Hangfire dashboard at <c>/hangfire</c> to local requests only.</summary>
    public bool DashboardLocalOnly { get; set; } = true;

    /// <summary>Where Hangfire keeps its queue: InMemory (one process, lost on restart) or PostgreSql (shared, durable).</summary>
    public JobStorageKind Storage { get; set; } = JobStorageKind.InMemory;

    /// <summary>PostgreSql: from <c>ConnectionStrings:Hangfire</c> (env <c>ConnectionStrings__Hangfire</c>), not from this section.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>PostgreSql: the schema Hangfire creates its tables in on first start.</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$")]
    public string SchemaName { get; set; } = "hangfire";

    /// <summary>
    /// PostgreSql: a job whose worker stopped sending heartbeats (killed, machine lost) is handed to another worker
    /// after this long. Heartbeats slide it while the job runs, so long jobs are never run twice.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>PostgreSql: how often an idle worker looks for a queued job.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Intra-op threads for training, set once for the whole process when the Hangfire server starts (libtorch has one
    /// count per process; concurrent jobs share it); 0 = one per core.
    /// </summary>
    [Range(0, 1024)]
    public int TrainingThreads { get; set; }
}

/// <summary>Hangfire storage (<c>Jobs:Storage</c>).</summary>
public enum JobStorageKind
{
    InMemory,
    PostgreSql,
}
