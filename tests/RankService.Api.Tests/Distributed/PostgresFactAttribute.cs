namespace RankService.Api.Tests.Distributed;

/// <summary>
/// A test that needs a real PostgreSQL, named by the connection string in <c>RANKSERVICE_TEST_POSTGRES</c>. Without it
/// the test is skipped with the reason, except in CI (<c>CI=true</c>), where it runs and fails: CI must not pass
/// these tests by skipping them (.ci/run installs PostgreSQL and sets the variable).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PostgresFactAttribute : FactAttribute
{
    public const string Variable = "RANKSERVICE_TEST_POSTGRES";

    public PostgresFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)) && !IsCi)
        {
            Skip = $"{Variable} is not set. Set it to a PostgreSQL connection string (e.g. Host=127.0.0.1;Database=rankservice;Username=rankservice;Password=rankservice) to run the api + worker tests; .ci/run installs PostgreSQL and sets it.";
        }
    }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The connection string; fails the test (in CI) when it is missing.</summary>
    public static string ConnectionString
    {
        get
        {
            string? value = Environment.GetEnvironmentVariable(Variable);
            Assert.False(string.IsNullOrWhiteSpace(value),
                $"CI=true but {Variable} is not set: the PostgreSQL tests must run in CI. .ci/run installs PostgreSQL and exports it.");
            return value!;
        }
    }
}
