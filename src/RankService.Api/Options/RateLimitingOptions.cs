namespace RankService.Api.Options;

/// <summary>Fixed-window rate limits per client IP address (section <c>RateLimiting</c>); a PermitLimit of 0 turns a limit off.</summary>
public sealed class RateLimitingOptions
{
    public const string Section = "RateLimiting";

    /// <summary><c>POST /jobs</c>: 60 a minute per client by default (a training job takes minutes, so this only stops floods).</summary>
    public FixedWindowLimit Jobs { get; set; } = new() { PermitLimit = 60, Window = TimeSpan.FromMinutes(1) };

    /// <summary><c>GET /users/{id}/ranking</c>: off by default, so a load test or a busy front end is never throttled here.</summary>
    public FixedWindowLimit Rankings { get; set; } = new() { PermitLimit = 0, Window = TimeSpan.FromSeconds(1) };

    /// <summary>Null when valid, else what to fix.</summary>
    public string? Check() => Jobs.Check($"{Section}:{nameof(Jobs)}") ?? Rankings.Check($"{Section}:{nameof(Rankings)}");
}

/// <summary>At most <see cref="PermitLimit"/> requests per <see cref="Window"/> from one client IP address.</summary>
public sealed class FixedWindowLimit
{
    /// <summary>Requests allowed per window; 0 = no limit.</summary>
    public int PermitLimit { get; set; }

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    public bool Enabled => PermitLimit > 0;

    internal string? Check(string name) =>
        PermitLimit < 0 ? $"{name}:PermitLimit must be 0 (off) or more; got {PermitLimit}."
        : Enabled && (Window < TimeSpan.FromMilliseconds(1) || Window > TimeSpan.FromDays(1)) ? $"{name}:Window must be between 00:00:00.001 and 1.00:00:00; got {Window}."
        : null;
}
