using Microsoft.Extensions.Options;

namespace RankService.Api.Tests;

public sealed class StartupValidationTests
{
    [Theory]
    [InlineData("Training:Epochs", "0", "epochs must be between 1 and 10000")]
    [InlineData("Training:Loss", "lambdamart", "Unknown loss 'lambdamart'")]
    [InlineData("Jobs:WorkerCount", "0", "WorkerCount")]
    [InlineData("Data:DefaultDataset", "ml-nope", "Data:DefaultDataset must be one of Data:Datasets")]
    [InlineData("Serving:DefaultK", "0", "DefaultK")]
    [InlineData("Service:Role", "Api", "Service:Role Api or Worker needs Jobs:Storage PostgreSql")]
    [InlineData("Service:Role", "Worker", "Service:Role Api or Worker needs Jobs:Storage PostgreSql")]
    [InlineData("Jobs:Storage", "PostgreSql", "Jobs:Storage PostgreSql needs ConnectionStrings:Hangfire")]
    [InlineData("Jobs:InvisibilityTimeout", "00:00:01", "InvisibilityTimeout")]
    public async Task An_invalid_setting_stops_the_host_at_start_naming_the_setting(string key, string value, string message)
    {
        await using var host = new ApiHost(overrides: new Dictionary<string, string?> { [key] = value });
        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => host.CreateClient());
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
