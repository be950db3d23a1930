namespace RankService.Api.Tests;

/// <summary>
/// A fact that needs the Debian <c>chromium</c> package. Without it the test is skipped with the reason on a
/// developer's machine, but runs (and fails, saying what is missing) under CI=true, where <c>.ci/run</c> installs it.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public ChromiumFactAttribute()
    {
        if (!IsInstalled && !IsCi)
        {
            Skip = $"Chromium is not installed at {ExecutablePath} (Debian: apt-get install -y chromium). Under CI=true this test fails instead.";
        }
    }

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
}
