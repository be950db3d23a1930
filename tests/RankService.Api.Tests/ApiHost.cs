using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RankService.Ranking.Data;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace RankService.Api.Tests;

/// <summary>
/// The web host over a temporary artifacts root, with a small synthetic data set as the default and a few epochs of
/// a small model as the training defaults, so a job takes about a second. Nothing is downloaded. Unless
/// <c>withApiKey</c> is false, the host accepts <see cref="TestKey"/> and its clients send it.
/// </summary>
public sealed class ApiHost : WebApplicationFactory<Program>
{
    public static readonly SyntheticOptions Synthetic = new() { Users = 100, Items = 150, MinRatingsPerUser = 10, MaxRatingsPerUser = 40, Seed = 7 };

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The API key of the test hosts; <see cref="TestKeyHash"/> is <c>printf %s rs-test-key-0123456789 | sha256sum</c>.</summary>
    public const string TestKey = "rs-test-key-0123456789";

    public const string TestKeyHash = "5970534f6e73bdc900cc2868b6b9886f8eed452e0a6709358df14d5a37a92bc4";

    private readonly IReadOnlyDictionary<string, string?> _overrides;
    private readonly bool _withApiKey;

    public ApiHost(string? artifactsRoot = null, IReadOnlyDictionary<string, string?>? overrides = null, bool withApiKey = true)
    {
        ArtifactsRoot = artifactsRoot ?? TempFolder();
        _overrides = overrides ?? new Dictionary<string, string?>();
        _withApiKey = withApiKey;
    }

    public string ArtifactsRoot { get; }

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), "rankservice-api-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Artifacts:Root"] = ArtifactsRoot,
            ["Data:Root"] = Path.Combine(ArtifactsRoot, "data"),
            ["Data:DefaultDataset"] = "synthetic",
            ["Data:Download"] = "false",
            ["Data:SyntheticSet:Users"] = Synthetic.Users.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Data:SyntheticSet:Items"] = Synthetic.Items.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Data:SyntheticSet:MinRatingsPerUser"] = Synthetic.MinRatingsPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Data:SyntheticSet:MaxRatingsPerUser"] = Synthetic.MaxRatingsPerUser.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Data:SyntheticSet:Seed"] = Synthetic.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // The tests were written against these; the service's defaults (appsettings.json) are the sweep's best.
            ["Training:Loss"] = "listmle",
            ["Training:LearningRate"] = "0.01",
            ["Training:WeightDecay"] = "0.001",
            ["Training:MaxListSize"] = "200",
            ["Training:Epochs"] = "3",
            ["Training:EmbeddingDim"] = "16",
            ["Training:NegativesPerList"] = "50",
            ["Training:BatchSize"] = "32",
            ["Jobs:WorkerCount"] = "1",
            ["Jobs:ShutdownTimeout"] = "00:00:30",
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:WriteTo:1:Args:path"] = Path.Combine(ArtifactsRoot, "logs", "rankservice-.log"),
        }).AddInMemoryCollection(_withApiKey ? [new("Security:ApiKeyHashes:0", TestKeyHash)] : []).AddInMemoryCollection(_overrides));
    }

    protected override void ConfigureClient(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        base.ConfigureClient(client);
        if (_withApiKey)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", TestKey);
        }
    }

    /// <summary>A client of this host that sends no API key (or the given one).</summary>
    public HttpClient CreateClientWithKey(string? key)
    {
        HttpClient client = CreateClient();
        client.DefaultRequestHeaders.Remove("X-Api-Key");
        if (key is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("X-Api-Key", key);
        }
        return client;
    }

    /// <summary>
    /// Serves on Kestrel at 127.0.0.1 on a free port instead of the in-memory TestServer, for clients outside this
    /// process such as a browser; returns the base address.
    /// </summary>
    public Uri StartOnKestrel()
    {
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        StartServer();
        ICollection<string> addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        return new Uri(addresses.Single());
    }

    public static async Task<JobView> PostJobAsync(HttpClient client, object body)
    {
        HttpResponseMessage response = await client.PostAsJsonAsync("/jobs", body, Json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JobView job = (await response.Content.ReadFromJsonAsync<JobView>(Json))!;
        Assert.Equal($"/jobs/{job.Id}", response.Headers.Location?.OriginalString);
        return job;
    }

    public static async Task<JobView> GetJobAsync(HttpClient client, string id) =>
        (await client.GetFromJsonAsync<JobView>($"/jobs/{id}", Json))!;

    /// <summary>Polls the job until <paramref name="until"/> holds; fails after a generous safety limit.</summary>
    public static async Task<JobView> WaitForAsync(HttpClient client, string id, Func<JobView, bool> until)
    {
        for (int attempt = 0; attempt < 3000; attempt++)
        {
            JobView job = await GetJobAsync(client, id);
            if (until(job))
            {
                return job;
            }
            if (job.State.IsFinished())
            {
                Assert.Fail($"Job {id} finished as {job.State} ({job.Error}) before the awaited condition held.");
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"Job {id} did not reach the awaited condition.");
    }

    public static Task<JobView> WaitForStateAsync(HttpClient client, string id, JobState state) =>
        WaitForAsync(client, id, j => j.State == state);
}
