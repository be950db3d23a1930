using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using RankService.Api.Options;

namespace RankService.Api.Security;

/// <summary>
/// Checks a presented API key against the configured SHA-256 hashes. The key is hashed first and the 32-byte hashes
/// are compared with <see cref="CryptographicOperations.FixedTimeEquals"/>, every configured hash every time, so
/// neither the position of the first wrong character nor which hash matched shows in the response time.
/// </summary>
public sealed class ApiKeyVerifier
{
    private readonly byte[][] _hashes;

    public ApiKeyVerifier(IOptions<SecurityOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _hashes = [.. options.Value.ApiKeyHashes.Select(Convert.FromHexString)];
    }

    /// <summary>False when no key is configured: protected endpoints then answer loopback clients only.</summary>
    public bool HasKeys => _hashes.Length > 0;

    /// <summary>The configured form of a key: lowercase hex SHA-256 of its UTF-8 bytes (as <c>printf %s KEY | sha256sum</c>).</summary>
    public static string Hash(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    public bool Verify(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return false;
        }
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), presented);
        bool match = false;
        foreach (byte[] hash in _hashes)
        {
            // No early exit: the time taken does not depend on which hash (if any) matched.
            match |= CryptographicOperations.FixedTimeEquals(presented, hash);
        }
        return match;
    }

    /// <summary>The key of a request: exactly one <c>X-Api-Key</c> header value, else null.</summary>
    public static string? KeyOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Headers.TryGetValue(SecurityOptions.ApiKeyHeader, out var values) && values.Count == 1 ? values[0] : null;
    }

    /// <summary>
    /// A request from this machine over a loopback connection. No remote address (an in-process test server) is not
    /// local: when in doubt, closed.
    /// </summary>
    public static bool IsLoopback(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Connection.RemoteIpAddress is { } address && System.Net.IPAddress.IsLoopback(address);
    }
}
