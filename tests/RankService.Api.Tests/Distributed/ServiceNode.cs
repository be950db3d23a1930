using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace RankService.Api.Tests.Distributed;

/// <summary>
/// One real RankService process (<c>dotnet RankService.Api.dll</c>) on 127.0.0.1 with its role, the shared PostgreSQL
/// job storage and the shared artifacts folder given as environment variables, as an operator would start it.
/// </summary>
public sealed class ServiceNode : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceNode(string role, Process process, int port)
    {
        Role = role;
        _process = process;
        Port = port;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Client.DefaultRequestHeaders.Add("X-Api-Key", ApiHost.TestKey);
    }

    public string Role { get; }
    public int Port { get; }
    public HttpClient Client { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a node: <paramref name="role"/> is Api or Worker; both share <paramref name="cluster"/>'s database schema and folders.</summary>
    public static ServiceNode Start(string role, Cluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        int port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = cluster.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ApiAssembly());
        string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
        var environment = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Service__Role"] = role,
            ["Jobs__Storage"] = "PostgreSql",
            ["ConnectionStrings__Hangfire"] = cluster.ConnectionString,
            ["Jobs__SchemaName"] = cluster.Schema,
            ["Jobs__InvisibilityTimeout"] = "00:00:15",
            ["Jobs__QueuePollInterval"] = "00:00:00.500",
            ["Jobs__ShutdownTimeout"] = "00:00:30",
            ["Jobs__TrainingThreads"] = "1",
            ["Serving__PollInterval"] = "00:00:00.500",
            ["Security__ApiKeyHashes__0"] = ApiHost.TestKeyHash,
            ["Artifacts__Root"] = cluster.Artifacts,
            ["Data__Root"] = Path.Combine(cluster.Root, "data"),
            ["Data__DefaultDataset"] = "synthetic",
            ["Data__Download"] = "false",
            ["Data__SyntheticSet__Users"] = Invariant(ApiHost.Synthetic.Users),
            ["Data__SyntheticSet__Items"] = Invariant(ApiHost.Synthetic.Items),
            ["Data__SyntheticSet__MinRatingsPerUser"] = Invariant(ApiHost.Synthetic.MinRatingsPerUser),
            ["Data__SyntheticSet__MaxRatingsPerUser"] = Invariant(ApiHost.Synthetic.MaxRatingsPerUser),
            ["Data__SyntheticSet__Seed"] = Invariant(ApiHost.Synthetic.Seed),
            ["Training__Loss"] = "listmle",
            ["Training__LearningRate"] = "0.01",
            ["Training__WeightDecay"] = "0.001",
            ["Training__MaxListSize"] = "200",
            ["Training__Epochs"] = "3",
            ["Training__EmbeddingDim"] = "16",
            ["Training__NegativesPerList"] = "50",
            ["Training__BatchSize"] = "32",
            ["Serilog__WriteTo__1__Args__path"] = Path.Combine(cluster.Root, "logs", role.ToLowerInvariant() + "-.log"),
        };
        foreach ((string key, string value) in environment)
        {
            start.Environment[key] = value;
        }
        var process = new Process { StartInfo = start };
        var node = new ServiceNode(role, process, port);
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Waits until <c>/health/live</c> answers; fails with the process output if it exits first.</summary>
    public async Task WaitLiveAsync()
    {
        for (int attempt = 0; attempt < 1200; attempt++)
        {
            Assert.False(_process.HasExited, $"{Role} node exited with {(_process.HasExited ? _process.ExitCode : 0)}:\n{Output}");
            try
            {
                using HttpResponseMessage response = await Client.GetAsync("/health/live");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        Assert.Fail($"{Role} node never answered /health/live:\n{Output}");
    }

    /// <summary>SIGKILL: no shutdown code runs, as when a machine dies.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as a container runtime sends on stop; waits for the process to exit.</summary>
    public async Task TerminateAsync()
    {
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>Ports handed to nodes of this test run: a port is free again once its probe closes, before the node binds it.</summary>
    private static readonly HashSet<int> HandedOut = [];

    /// <summary>
    /// A loopback port no other node of this run was given: the kernel may offer a just-probed port again while the
    /// node it went to is still starting, and two nodes on one port made the api node's client reach a worker (a 404).
    /// </summary>
    private static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (HandedOut)
            {
                if (HandedOut.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>The web host's own build output (same configuration as these tests), which holds its appsettings.json.</summary>
    private static string ApiAssembly()
    {
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string framework = testOutput.Name;
        string configuration = testOutput.Parent!.Name;
        DirectoryInfo? root = testOutput;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "RankService.sln")))
        {
            root = root.Parent;
        }
        Assert.NotNull(root);
        string dll = Path.Combine(root.FullName, "src", "RankService.Api", "bin", configuration, framework, "RankService.Api.dll");
        Assert.True(File.Exists(dll), $"The web host is not built at {dll}; build the solution first.");
        return dll;
    }
}

/// <summary>What the nodes of one test share: a fresh Hangfire schema in the test database and one artifacts folder.</summary>
public sealed class Cluster : IAsyncDisposable
{
    public Cluster()
    {
        ConnectionString = PostgresFactAttribute.ConnectionString;
        Root = ApiHost.TempFolder();
        Artifacts = Path.Combine(Root, "artifacts");
        Schema = "hangfire_test_" + Guid.NewGuid().ToString("N")[..12];
    }

    public string ConnectionString { get; }
    public string Root { get; }
    public string Artifacts { get; }
    public string Schema { get; }

    public string StatusPath(string jobId) => Path.Combine(Artifacts, "jobs", jobId, "status.json");

    /// <summary>Drops the test's Hangfire schema (call after its nodes have stopped).</summary>
    public async ValueTask DisposeAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var drop = new Npgsql.NpgsqlCommand($"DROP SCHEMA IF EXISTS \"{Schema}\" CASCADE", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
