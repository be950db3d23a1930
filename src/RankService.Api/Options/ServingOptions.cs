using System.ComponentModel.DataAnnotations;
using RankService.Ranking.Index;

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

    /// <summary>Catalogues of at least this many items get an approximate (HNSW) index for <c>dot</c> models; smaller ones rank exactly.</summary>
    [Range(1, int.MaxValue)]
    public int AnnMinItems { get; set; } = 20_000;

    /// <summary>How the index is built and searched (section <c>Serving:Ann</c>).</summary>
    public ItemIndexSettings Ann { get; set; } = new();

    /// <summary>
    /// The largest catalogue a job may ask to serve blended with EASE (<c>"blend": "ease"</c>): EASE keeps an items ×
    /// items matrix in memory (20,000 items: 1.6 GB).
    /// </summary>
    [Range(1, 23_000)]
    public int MaxBlendItems { get; set; } = 20_000;
}
