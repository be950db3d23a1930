namespace RankService.Cli;

/// <summary>The folder of one run or sweep under <c>--out</c>.</summary>
internal static class RunFolder
{
    /// <summary>
    /// Creates <c>{out}/{utc time}-{label}-{random}</c>: the random suffix keeps two runs started in the same second
    /// from sharing (and resuming from) one folder.
    /// </summary>
    public static string Create(string parent, string label)
    {
        string folder = Path.Combine(parent, $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{label}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(folder);
        return folder;
    }
}
