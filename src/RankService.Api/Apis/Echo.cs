namespace RankService.Api.Apis;

/// <summary>Caller-supplied text quoted back in an error, cut short so an overlong value cannot bloat the answer or the log.</summary>
internal static class Echo
{
    public const int MaxLength = 64;

    public static string Of(string value) =>
        value.Length <= MaxLength ? value : $"{value[..MaxLength]}... ({value.Length} characters)";
}
