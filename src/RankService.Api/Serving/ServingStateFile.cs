using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using RankService.Api.Jobs;
using RankService.Api.Options;
using RankService.Ranking.Checkpoints;

namespace RankService.Api.Serving;

/// <summary>What <c>serving.json</c> holds: the serving job per data set and the data set activated last.</summary>
public sealed record ServingState
{
    public IReadOnlyDictionary<string, string> Datasets { get; init; } = new Dictionary<string, string>();
    public string? LastActivated { get; init; }

    /// <summary>This state with <paramref name="dataset"/> served by <paramref name="jobId"/>; other data sets as they are.</summary>
    public ServingState Serving(string dataset, string jobId) =>
        this with { Datasets = new Dictionary<string, string>(Datasets, StringComparer.Ordinal) { [dataset] = jobId } };
}

/// <summary>
/// <c>{Artifacts:Root}/serving.json</c>. Every change is a read-modify-write of the file as it is now, under a lock that
/// covers every node sharing the artifacts root (a PostgreSQL advisory lock with PostgreSql job storage) and every
/// registry in this process, so two nodes activating models at once never lose each other's choice; the write is
/// atomic, so a reader never sees half a file.
/// </summary>
public sealed class ServingStateFile
{
    private static readonly ConcurrentDictionary<string, Lock> s_processLocks = new(StringComparer.Ordinal);

    private readonly IServingStateLock _nodes;
    private readonly ILogger<ServingStateFile> _logger;

    public ServingStateFile(IOptions<ArtifactsOptions> artifacts, IServingStateLock nodes, ILogger<ServingStateFile> logger)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        Path = System.IO.Path.Combine(artifacts.Value.FullRoot, "serving.json");
        _nodes = nodes;
        _logger = logger;
    }

    public string Path { get; }

    /// <summary>The state as written last; empty when there is no file or it cannot be read.</summary>
    public ServingState Read()
    {
        try
        {
            return File.Exists(Path)
                ? JsonSerializer.Deserialize<ServingState>(File.ReadAllBytes(Path), JobStore.Json) ?? new ServingState()
                : new ServingState();
        }
        catch (JsonException e)
        {
            _logger.LogWarning(e, "Ignoring unreadable {Path}", Path);
            return new ServingState();
        }
    }

    /// <summary>Applies <paramref name="change"/> to the state as it is in the file now and writes the result.</summary>
    public ServingState Update(Func<ServingState, ServingState> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (s_processLocks.GetOrAdd(System.IO.Path.GetFullPath(Path), _ => new Lock()))
        {
            using IDisposable _ = _nodes.Acquire();
            ServingState next = change(Read());
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
            AtomicFile.Write(Path, JsonSerializer.SerializeToUtf8Bytes(next, JobStore.Json));
            return next;
        }
    }
}

/// <summary>Held around a change of serving.json by every node that shares it.</summary>
public interface IServingStateLock
{
    IDisposable Acquire();
}

/// <summary>Nodes do not share job storage (InMemory): the process-wide lock of <see cref="ServingStateFile"/> suffices.</summary>
public sealed class ProcessServingStateLock : IServingStateLock
{
    public IDisposable Acquire() => Released.Instance;

    private sealed class Released : IDisposable
    {
        public static readonly Released Instance = new();

        public void Dispose()
        {
        }
    }
}

/// <summary>
/// A session-level PostgreSQL advisory lock in the job storage's database, keyed by the Hangfire schema (the nodes of
/// one deployment), held on its own connection and released explicitly (a pooled connection outlives its Close).
/// </summary>
public sealed class PostgresServingStateLock(IOptions<JobsOptions> jobs) : IServingStateLock
{
    private readonly long _key = Key(jobs.Value.SchemaName);

    public IDisposable Acquire()
    {
        // Unpooled: closing ends the session, which releases the lock even if the unlock below never ran.
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(jobs.Value.ConnectionString) { Pooling = false }.ConnectionString);
        try
        {
            connection.Open();
            Execute(connection, "SELECT pg_advisory_lock(@key)");
            return new Held(connection, _key);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static long Key(string schema) =>
        BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"rankservice:serving.json:{schema}")), 0);

    private static void Execute(NpgsqlConnection connection, string sql, long key)
    {
        using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("key", key);
        command.ExecuteNonQuery();
    }

    private void Execute(NpgsqlConnection connection, string sql) => Execute(connection, sql, _key);

    private sealed class Held(NpgsqlConnection connection, long key) : IDisposable
    {
        public void Dispose()
        {
            try
            {
                Execute(connection, "SELECT pg_advisory_unlock(@key)", key);
            }
            finally
            {
                connection.Dispose();
            }
        }
    }
}
