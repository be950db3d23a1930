using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using RankService.Api.Options;
using RankService.Ranking.Checkpoints;
using RankService.Ranking.Training;

namespace RankService.Api.Jobs;

/// <summary>
/// Jobs as folders under <c>{Artifacts:Root}/jobs/{id}</c>: <c>request.json</c>, <c>status.json</c> (a
/// <see cref="JobRecord"/>, written by <see cref="AtomicFile"/>), <c>metrics.jsonl</c> (one
/// <see cref="EpochReport"/> a line), <c>checkpoints/</c> and <c>tensorboard/</c>. Records are cached in memory and
/// every change goes through <see cref="Update"/> under one lock, so concurrent writers never lose a change.
/// With shared job storage (PostgreSql) several processes share the folder: reads then pick up records other
/// processes wrote (by file time), and <see cref="Update"/> re-reads the record under a per-job lock file, so api and
/// worker nodes agree on each job's state.
/// </summary>
public sealed partial class JobStore
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new WireNameJsonConverterFactory(), new JsonStringEnumConverter() },
    };

    private static readonly JsonSerializerOptions JsonLine = new(Json) { WriteIndented = false };

    private readonly Lock _gate = new();
    private readonly Dictionary<string, JobRecord> _records = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTime> _readAt = new(StringComparer.Ordinal);
    private readonly ILogger<JobStore> _logger;
    private readonly JobLifecycle _lifecycle;

    public JobStore(IOptions<ArtifactsOptions> options, IOptions<JobsOptions> jobs, JobLifecycle lifecycle, ILogger<JobStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(jobs);
        _logger = logger;
        _lifecycle = lifecycle;
        Shared = jobs.Value.Storage != JobStorageKind.InMemory;
        Root = Path.Combine(options.Value.FullRoot, "jobs");
        Directory.CreateDirectory(Root);
        Rescan();
    }

    /// <summary>True when other processes may write the same job folders (shared job storage).</summary>
    public bool Shared { get; }

    /// <summary>The folder that holds one folder per job.</summary>
    public string Root { get; }

    public static string NewId() => Guid.CreateVersion7().ToString("N");

    /// <summary>Ids are 32 lowercase hex digits; anything else never reaches the file system.</summary>
    public static bool IsValidId(string id) => IdPattern().IsMatch(id);

    public string Folder(string id) => IsValidId(id) ? Path.Combine(Root, id) : throw new ArgumentException($"'{id}' is not a job id.", nameof(id));

    /// <summary>Writes a new job's folder, request and first status record.</summary>
    public JobRecord Create(JobRecord record, JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(record);
        string folder = Folder(record.Id);
        Directory.CreateDirectory(folder);
        AtomicFile.Write(Path.Combine(folder, "request.json"), JsonSerializer.SerializeToUtf8Bytes(request, Json));
        lock (_gate)
        {
            Write(record);
            _records[record.Id] = record;
            _readAt[record.Id] = File.GetLastWriteTimeUtc(StatusPath(record.Id));
        }
        return record;
    }

    public JobRecord? Find(string id)
    {
        lock (_gate)
        {
            if (Shared && IsValidId(id))
            {
                Refresh(id);
            }
            return _records.GetValueOrDefault(id);
        }
    }

    /// <summary>Newest first.</summary>
    public IReadOnlyList<JobRecord> List()
    {
        lock (_gate)
        {
            if (Shared)
            {
                Rescan();
            }
            return _records.Values.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Applies <paramref name="change"/> to the current record and persists the result; null for an unknown id.</summary>
    public JobRecord? Update(string id, Func<JobRecord, JobRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            using FileStream? crossProcess = Shared && IsValidId(id) ? LockJob(id) : null;
            if (crossProcess is not null)
            {
                Refresh(id);
            }
            if (!_records.TryGetValue(id, out JobRecord? current))
            {
                return null;
            }
            JobRecord next = change(current);
            if (!ReferenceEquals(next, current))
            {
                Write(next);
                _records[id] = next;
                _readAt[id] = File.GetLastWriteTimeUtc(StatusPath(id));
            }
            return next;
        }
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the record this process keeps without writing it: for a failure whose own
    /// status record the disk refuses (full, read-only). The file keeps the last state written; a restart with
    /// in-memory storage then marks the job interrupted.
    /// </summary>
    public JobRecord? UpdateInMemory(string id, Func<JobRecord, JobRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (_gate)
        {
            if (!_records.TryGetValue(id, out JobRecord? current))
            {
                return null;
            }
            JobRecord next = change(current);
            _records[id] = next;
            return next;
        }
    }

    /// <summary>Reads every job folder's record that is new or changed since it was last read (call under the gate).</summary>
    private void Rescan()
    {
        foreach (string folder in Directory.EnumerateDirectories(Root))
        {
            string id = Path.GetFileName(folder);
            if (IsValidId(id))
            {
                Refresh(id);
            }
        }
    }

    /// <summary>Reads a job's status record when its file changed since it was last read (call under the gate).</summary>
    private void Refresh(string id)
    {
        string status = StatusPath(id);
        DateTime written = File.GetLastWriteTimeUtc(status);
        if (!File.Exists(status) || (_readAt.TryGetValue(id, out DateTime read) && read == written))
        {
            return;
        }
        try
        {
            if (JsonSerializer.Deserialize<JobRecord>(File.ReadAllBytes(status), Json) is { } record)
            {
                _records[id] = record;
                _readAt[id] = written;
            }
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            _logger.LogWarning(e, "Skipping job {JobId}: its status record is unreadable", id);
            _readAt[id] = written;
        }
    }

    /// <summary>
    /// An exclusive lock on <c>status.lock</c> in the job's folder (.NET takes an advisory lock for FileShare.None), so a
    /// read-modify-write of the record by one process never interleaves with another's.
    /// </summary>
    private FileStream LockJob(string id)
    {
        string path = Path.Combine(Folder(id), "status.lock");
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 500 && Directory.Exists(Folder(id)))
            {
                Thread.Sleep(10);
            }
        }
    }

    private string StatusPath(string id) => Path.Combine(Folder(id), "status.json");

    /// <summary>Marks every job left queued or running by an earlier process as failed ("interrupted"). Returns how many.</summary>
    public int FailInterrupted()
    {
        int count = 0;
        foreach (JobRecord record in List().Where(r => !r.State.IsFinished()))
        {
            Update(record.Id, _lifecycle.Interrupt);
            _logger.LogWarning("Job {JobId} was {State} when the service stopped; marked failed (interrupted)", record.Id, record.State);
            count++;
        }
        return count;
    }

    public void AppendMetrics(string id, EpochReport report)
    {
        byte[] line = JsonSerializer.SerializeToUtf8Bytes(report, JsonLine);
        using var stream = new FileStream(Path.Combine(Folder(id), "metrics.jsonl"), FileMode.Append, FileAccess.Write, FileShare.Read);
        stream.Write(line);
        stream.WriteByte((byte)'\n');
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Every epoch written so far; a torn last line (a crash mid-write) is left out.</summary>
    public IReadOnlyList<EpochReport> ReadMetrics(string id)
    {
        string path = Path.Combine(Folder(id), "metrics.jsonl");
        if (!File.Exists(path))
        {
            return [];
        }
        var reports = new List<EpochReport>();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            try
            {
                if (JsonSerializer.Deserialize<EpochReport>(line, JsonLine) is { } report)
                {
                    reports.Add(report);
                }
            }
            catch (JsonException)
            {
                break;
            }
        }
        return reports;
    }

    /// <summary>The full path of a job's best checkpoint manifest, or null.</summary>
    public string? CheckpointPath(JobRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return record.Checkpoint is null ? null : Path.Combine(Folder(record.Id), record.Checkpoint);
    }

    private void Write(JobRecord record) =>
        AtomicFile.Write(StatusPath(record.Id), JsonSerializer.SerializeToUtf8Bytes(record, Json));

    /// <summary>Keeps the epochs before <paramref name="epoch"/> (a resumed run reports the later ones again); returns what was kept.</summary>
    public IReadOnlyList<EpochReport> TruncateMetrics(string id, int epoch)
    {
        IReadOnlyList<EpochReport> all = ReadMetrics(id);
        List<EpochReport> kept = all.Where(r => r.Epoch < epoch).ToList();
        // Rewritten even when nothing is dropped: a torn last line (a crash mid-append) must not precede new lines.
        if (File.Exists(Path.Combine(Folder(id), "metrics.jsonl")))
        {
            var bytes = new List<byte>();
            foreach (EpochReport report in kept)
            {
                bytes.AddRange(JsonSerializer.SerializeToUtf8Bytes(report, JsonLine));
                bytes.Add((byte)'\n');
            }
            AtomicFile.Write(Path.Combine(Folder(id), "metrics.jsonl"), [.. bytes]);
        }
        return kept;
    }

    [System.Text.RegularExpressions.GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial System.Text.RegularExpressions.Regex IdPattern();
}
