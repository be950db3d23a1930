using System.Text.Json.Serialization;

namespace RankService.Api.Options;

/// <summary>What this process does (section <c>Service</c>).</summary>
public sealed class ServiceOptions
{
    public const string Section = "Service";

    /// <summary>All (default), Api (HTTP only, no Hangfire server) or Worker (training jobs only, plus health).</summary>
    public ServiceRole Role { get; set; } = ServiceRole.All;

    public bool RunsJobs => Role != ServiceRole.Api;

    public bool ServesHttpApi => Role != ServiceRole.Worker;
}

[JsonConverter(typeof(JsonStringEnumConverter<ServiceRole>))]
public enum ServiceRole
{
    /// <summary>HTTP API and a Hangfire server in one process.</summary>
    All,

    /// <summary>Enqueues jobs and serves rankings; picks up models that workers train.</summary>
    Api,

    /// <summary>Runs training jobs from the shared queue; answers health checks only.</summary>
    Worker,
}
