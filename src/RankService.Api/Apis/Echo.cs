namespace RankService.Api.Apis;

/// <summary>Caller-supplied text quoted back in an error, cut short so an overlong value cannot bloat the answer or the log.</summary>
internal static class Echo
{
    public const int MaxLength = 200;

    /// <summary>At most <see cref="MaxLength"/> characters of <paramref name="value"/>, then "…" when it was longer.</summary>
    public static string Of(string? value)
    {
        if (value is null)
        {
            return "";
        }
        if (value.Length <= MaxLength)
        {
            return value;
        }
        // Never end on half a surrogate pair: the cut answer must still be valid UTF-16.
        int cut = char.IsHighSurrogate(value[MaxLength - 1]) ? MaxLength - 1 : MaxLength;
        return $"{value[..cut]}…";
    }
}
