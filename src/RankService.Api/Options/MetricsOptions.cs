using System.Net;

namespace RankService.Api.Options;

/// <summary>The Prometheus scrape endpoint (section <c>Metrics</c>).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>Map <c>/metrics</c> at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Answer scrapes from any address. Off by default: only loopback clients and <see cref="AllowedNetworks"/> may
    /// scrape, because the series name data sets and job ids.
    /// </summary>
    public bool AllowedFromAnyAddress { get; set; }

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>, or single addresses) whose clients may scrape besides loopback.</summary>
    public IList<string> AllowedNetworks { get; set; } = [];

    /// <summary>The parsed <see cref="AllowedNetworks"/> (call after <see cref="Check"/> passed).</summary>
    public IReadOnlyList<IPNetwork> Networks() => AllowedNetworks.Select(n => ParseNetwork(n)!.Value).ToList();

    /// <summary>Null when valid, else what to fix.</summary>
    public string? Check()
    {
        for (int i = 0; i < AllowedNetworks.Count; i++)
        {
            if (ParseNetwork(AllowedNetworks[i]) is null)
            {
                return $"{Section}:{nameof(AllowedNetworks)}:{i} must be a network in CIDR notation (10.0.0.0/8, fd00::/8) or one address; got '{Apis.Echo.Of(AllowedNetworks[i])}'.";
            }
        }
        return null;
    }

    private static IPNetwork? ParseNetwork(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        text = text.Trim();
        if (IPNetwork.TryParse(text, out IPNetwork network))
        {
            return network;
        }
        // One address is the network of just that address.
        return IPAddress.TryParse(text, out IPAddress? address)
            ? new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
            : null;
    }
}
