using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RankService.Ranking.Losses;
using RankService.Ranking.Model;
using RankService.Ranking.Training;

namespace RankService.Api.Tests;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Training:Epochs", "0", "epochs must be between 1 and 10000")]
    [InlineData("Training:Loss", "lambdamart", "Unknown loss 'lambdamart'")]
    [InlineData("Training:HybridFirst", "hybrid", "Training:hybridFirst: Unknown hybridFirst 'hybrid'")]
    [InlineData("Training:Head", "square", "Training:head: Unknown head 'square'. Use one of: dot, concat-mlp.")]
    [InlineData("Training:Lossy", "listmle", "Unknown setting 'Training:Lossy'")]
    [InlineData("Jobs:WorkerCount", "0", "WorkerCount")]
    [InlineData("Data:DefaultDataset", "ml-nope", "Data:DefaultDataset must be one of Data:Datasets")]
    [InlineData("Serving:DefaultK", "0", "DefaultK")]
    [InlineData("Serving:Ann:Connectivity", "1", "Serving:Ann holds a value out of range")]
    [InlineData("Service:Role", "Api", "Service:Role Api or Worker needs Jobs:Storage PostgreSql")]
    [InlineData("Service:Role", "Worker", "Service:Role Api or Worker needs Jobs:Storage PostgreSql")]
    [InlineData("Jobs:Storage", "PostgreSql", "Jobs:Storage PostgreSql needs ConnectionStrings:Hangfire")]
    [InlineData("Jobs:InvisibilityTimeout", "00:00:01", "InvisibilityTimeout")]
    [InlineData("Jobs:DashboardLocalOnly", "false", "needs Security:ApiKeyHashes")]
    [InlineData("Security:ApiKeyHashes:0", "my-raw-secret-key", "Security:ApiKeyHashes:0 must be the SHA-256")]
    [InlineData("Security:ApiKeyHashes:0", "5970534f6e73bdc900cc2868b6b9886f8eed452e0a6709358df14d5a37a92bcZ", "64 hex digits")]
    [InlineData("Security:MaxRequestBodyBytes", "10", "MaxRequestBodyBytes")]
    [InlineData("RateLimiting:Jobs:PermitLimit", "-1", "RateLimiting:Jobs:PermitLimit")]
    [InlineData("RateLimiting:Rankings:Window", "00:00:00", "RateLimiting:Rankings:Window")]
    public async Task An_invalid_setting_stops_the_host_at_start_naming_the_setting_without_echoing_a_key(string key, string value, string message)
    {
        var overrides = new Dictionary<string, string?> { [key] = value };
        if (key == "RateLimiting:Rankings:Window")
        {
            overrides["RateLimiting:Rankings:PermitLimit"] = "5"; // a window is only checked for a limit that is on
        }
        await using var host = new ApiHost(overrides: overrides, withApiKey: key != "Jobs:DashboardLocalOnly");
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => host.CreateClient());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("my-raw-secret-key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Training_settings_are_read_by_the_option_catalogs_rule_any_case_in_and_lists_by_index()
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?>
        {
            ["Training:Loss"] = "Lambda-Loss",
            ["Training:LambdaWeighting"] = "NDCG-Loss2++",
            ["Training:Head"] = "concat-mlp",
            ["Training:HiddenSizes:0"] = "32",
            ["Training:HiddenSizes:1"] = "16",
        });
        TrainingOptions defaults = host.Services.GetRequiredService<IOptions<TrainingOptions>>().Value;
        Assert.Equal((LossKind.LambdaLoss, LambdaWeighting.NdcgLoss2PlusPlus, ScoringHead.ConcatMlp), (defaults.Loss, defaults.LambdaWeighting, defaults.Head));
        Assert.Equal([32, 16], defaults.HiddenSizes);
        Assert.Equal(3, defaults.Epochs); // the test host's own setting, untouched by these
    }
}
