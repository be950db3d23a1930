using System.ComponentModel.DataAnnotations;

namespace RankService.Api.Options;

/// <summary>Where each job's folder (request, status, metrics, checkpoints, TensorBoard) lives (section <c>Artifacts</c>).</summary>
public sealed class ArtifactsOptions
{
    public const string Section = "Artifacts";

    /// <summary>Root folder; relative paths start at the working directory. The folder is the source of truth for job history.</summary>
    [Required]
    public string Root { get; set; } = "artifacts";

    public string FullRoot => Path.GetFullPath(Root);
}
