namespace RankService.Api.Options;

/// <summary>API keys and request limits (section <c>Security</c>).</summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>The request header that carries an API key.</summary>
    public const string ApiKeyHeader = "X-Api-Key";

    /// <summary>
    /// SHA-256 of each accepted key as 64 hex digits (<c>printf %s KEY | sha256sum</c> or <c>rankservice hash-key</c>).
    /// Only hashes are configured, so a leaked configuration file leaks no key. Empty: protected endpoints answer
    /// loopback clients only.
    /// </summary>
    public IList<string> ApiKeyHashes { get; set; } = [];

    /// <summary>Make <c>GET /users/{id}/ranking</c> require a key too (it is open by default).</summary>
    public bool RequireKeyForRankings { get; set; }

    /// <summary>Largest request body Kestrel reads, in bytes; larger ones answer 413. The biggest JSON body (a job request) is under 2 KB.</summary>
    public long MaxRequestBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Null when valid, else what to fix.</summary>
    public string? Check()
    {
        for (int i = 0; i < ApiKeyHashes.Count; i++)
        {
            string hash = ApiKeyHashes[i] ?? "";
            if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
            {
                // The value is not echoed: it may be a raw key pasted by mistake.
                return $"{Section}:{nameof(ApiKeyHashes)}:{i} must be the SHA-256 of a key as 64 hex digits (printf %s KEY | sha256sum, or rankservice hash-key); it is not.";
            }
        }
        return MaxRequestBodyBytes is < 1024 or > 100L * 1024 * 1024
            ? $"{Section}:{nameof(MaxRequestBodyBytes)} must be between 1024 and 104857600; got {MaxRequestBodyBytes}."
            : null;
    }
}
