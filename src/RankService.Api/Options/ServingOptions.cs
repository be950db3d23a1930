using System.ComponentModel.DataAnnotations;

namespace RankService.Api.Options;

/// <summary>Rankings (section <c>Serving</c>).</summary>
public sealed class ServingOptions
{
    public const string Section = "Serving";

    /// <summary>k when a ranking request gives none.</summary>
    [Range(1, 10_000)]
    public int DefaultK { get; set; } = 10;

    /// <summary>Load the serving model of each data set from the artifacts folder at start.</summary>
    public bool LoadOnStart { get; set; } = true;

    /// <summary>
    /// With shared job storage (PostgreSql), how often an API node looks for jobs other nodes finished and serves a
    /// better model; 0 turns it off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The largest catalogue a job may ask to serve blended with EASE (<c>"blend": "ease"</c>): EASE keeps an items ×
    /// items matrix in memory (20,000 items: 1.6 GB).
    /// </summary>
    [Range(1, 23_000)]
    public int MaxBlendItems { get; set; } = 20_000;
}
