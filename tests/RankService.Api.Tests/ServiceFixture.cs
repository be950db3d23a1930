
namespace RankService.Api.Tests;

/// <summary>
/// The one host fixture of the API tests: an <see cref="ApiHost"/> with its settings overridden by
/// <c>overrides</c>, a client that sends the test key, and, when <c>trainFirst</c> is given, one job posted with that
/// body and awaited until it succeeded. Test classes share one through <c>IClassFixture</c> (the subclasses below
/// name what each shares) or own one per test through <see cref="IAsyncLifetime"/>.
/// </summary>
public class ServiceFixture(IReadOnlyDictionary<string, string?>? overrides = null, object? trainFirst = null) : IAsyncLifetime
{
    public ApiHost Host { get; } = new(overrides: overrides);
    public HttpClient Client { get; private set; } = null!;

    /// <summary>The job trained before the tests ran; null when the fixture trains none.</summary>
    public JobView? TrainedJob { get; private set; }

    /// <summary>The trained job, for fixtures that train one.</summary>
    public JobView Job => TrainedJob ?? throw new InvalidOperationException("This fixture trains no job.");

    public async Task InitializeAsync()
    {
        Client = Host.CreateClient();
        if (trainFirst is not null)
        {
            JobView queued = await ApiHost.PostJobAsync(Client, trainFirst);
            TrainedJob = await ApiHost.WaitForStateAsync(Client, queued.Id, JobState.Succeeded);
        }
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        await Host.DisposeAsync();
    }
}

/// <summary>A host with no model yet: bad requests, and rankings before any training.</summary>
public sealed class EmptyService() : ServiceFixture;

/// <summary>
/// The base of test classes whose every test owns a fresh host (xunit makes one instance of the class per test), so no
/// job of one test queues before another's.
/// </summary>
public abstract class HostPerTest(IReadOnlyDictionary<string, string?>? overrides = null) : IAsyncLifetime
{
    private readonly ServiceFixture _service = new(overrides);

    protected ApiHost Host => _service.Host;
    protected HttpClient Client => _service.Client;

    public Task InitializeAsync() => _service.InitializeAsync();

    public Task DisposeAsync() => _service.DisposeAsync();
}
