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

    /// <summary>Intra-op threads for training; 0 = one per core.</summary>
    [Range(0, 1024)]
    public int TrainingThreads { get; set; }
}
