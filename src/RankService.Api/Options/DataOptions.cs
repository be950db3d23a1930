using System.ComponentModel.DataAnnotations;

namespace RankService.Api.Options;

/// <summary>Where data sets live and which ones a job may name (section <c>Data</c>).</summary>
public sealed class DataOptions
{
    public const string Section = "Data";

    /// <summary>The built-in offline data set: generated from <see cref="SyntheticDataOptions"/>, never downloaded.</summary>
    public const string Synthetic = "synthetic";

    /// <summary>Folder holding one folder per data set (<c>{Root}/ml-100k</c>); relative paths start at the working directory.</summary>
    [Required]
    public string Root { get; set; } = "data";

    /// <summary>The data set of <c>POST /jobs</c> when the request names none, and of rankings before any model is activated.</summary>
    [Required]
    public string DefaultDataset { get; set; } = "ml-100k";

    /// <summary>The data sets when configuration names none.</summary>
    public static readonly IReadOnlyList<string> DefaultDatasets = ["ml-100k", "ml-latest-small", "ml-1m", Synthetic];

    /// <summary>
    /// Names a job may ask for: folders under <see cref="Root"/> (downloaded when missing and known), plus <c>synthetic</c>.
    /// Empty means <see cref="DefaultDatasets"/> (the binder appends to a list, so the defaults cannot sit here).
    /// </summary>
    public IList<string> Datasets { get; set; } = [];

    /// <summary>Download a known MovieLens release into <see cref="Root"/> when its folder is missing.</summary>
    public bool Download { get; set; } = true;

    /// <summary>Skip malformed rating lines (and count them) instead of failing the job.</summary>
    public bool SkipMalformedLines { get; set; }

    /// <summary>Size of the built-in <c>synthetic</c> data set.</summary>
    public SyntheticDataOptions SyntheticSet { get; set; } = new();

    /// <summary>Largest body of <c>POST /datasets/{name}/import</c> (default 1 GiB); the import streams it, never holding it whole.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxImportBytes { get; set; } = 1L << 30;

    /// <summary>Largest body of <c>POST /datasets/{name}/items</c> and <c>/feedback</c> (at most 10,000 records each).</summary>
    [Range(1L, long.MaxValue)]
    public long MaxBatchBytes { get; set; } = 16L << 20;

    /// <summary>The SQLite file of the live data sets; a relative path starts at <see cref="Root"/>. Made on first use.</summary>
    [Required]
    public string LiveDatabase { get; set; } = "live-datasets.db";

    /// <summary>With Jobs:Storage PostgreSql, the schema of the live data sets' tables (on the Hangfire connection).</summary>
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$")]
    public string LiveSchema { get; set; } = "live_datasets";

    public string FullRoot => Path.GetFullPath(Root);

    public bool IsKnown(string name) => Datasets.Contains(name, StringComparer.Ordinal);
}

/// <summary>Size of the built-in <c>synthetic</c> data set (section <c>Data:SyntheticSet</c>).</summary>
public sealed class SyntheticDataOptions
{
    [Range(2, 100_000)]
    public int Users { get; set; } = 200;

    [Range(10, 100_000)]
    public int Items { get; set; } = 300;

    [Range(3, 100_000)]
    public int MinRatingsPerUser { get; set; } = 20;

    [Range(3, 100_000)]
    public int MaxRatingsPerUser { get; set; } = 60;

    public int Seed { get; set; } = 42;
}
