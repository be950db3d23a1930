using System.Runtime.CompilerServices;
using System.Globalization;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace RankService.Api.Datasets;

/// <summary>
/// Live data sets in one SQLite file (WAL: snapshot reads never wait for a write, nor a write for them). Writes are
/// serialised in this process (one writer is all SQLite has) and each is one <c>BEGIN IMMEDIATE</c> transaction.
/// The file and its tables are made on first use, so <c>dotnet run</c> needs no set-up. One process owns the file:
/// nodes that share data sets use PostgreSQL. Feedback has no index but its rowid (insertion order): an index on the
/// user would make every import about 1.7 times slower, for the rare erasure, which scans instead.
/// </summary>
public sealed class SqliteLiveDatasetStore : ILiveDatasetStore, IDisposable
{
    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS datasets(
            key INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, version INTEGER NOT NULL, settings TEXT NOT NULL,
            created_at INTEGER NOT NULL, users INTEGER NOT NULL DEFAULT 0, items INTEGER NOT NULL DEFAULT 0,
            feedback INTEGER NOT NULL DEFAULT 0, last_feedback_at INTEGER);
        CREATE TABLE IF NOT EXISTS users(key INTEGER PRIMARY KEY AUTOINCREMENT, ds INTEGER NOT NULL, id TEXT NOT NULL, UNIQUE(ds, id));
        CREATE TABLE IF NOT EXISTS items(
            key INTEGER PRIMARY KEY AUTOINCREMENT, ds INTEGER NOT NULL, id TEXT NOT NULL, title TEXT, categories TEXT,
            hidden INTEGER NOT NULL DEFAULT 0, ts INTEGER, labels TEXT, UNIQUE(ds, id));
        CREATE TABLE IF NOT EXISTS feedback(ds INTEGER NOT NULL, user_key INTEGER NOT NULL, item_key INTEGER NOT NULL, type TEXT NOT NULL, value REAL, ts INTEGER);
        """;

    private static readonly string[] DatasetTables = ["feedback", "users", "items", "datasets"];

    private const string DatasetColumns = "key, name, version, settings, created_at, users, items, feedback, last_feedback_at";

    private readonly string _connectionString;
    private readonly string _path;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private readonly SemaphoreSlim _init = new(1, 1);
    private readonly TimeProvider _clock;
    private bool _ready;

    // Ids to keys of the data sets written since start: a write looks ids up here, not in the table, so a 25M-row
    // import pays no query per row. Valid because this process is the file's only writer; a failed write drops them.
    private readonly Dictionary<long, KeyCache> _caches = [];

    public SqliteLiveDatasetStore(string path, TimeProvider clock)
    {
        _path = Path.GetFullPath(path);
        _clock = clock;
        _connectionString = new SqliteConnectionStringBuilder { DataSource = _path, Pooling = true, DefaultTimeout = 120 }.ToString();
    }

    public async Task<IReadOnlyList<LiveDatasetInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteCommand command = Command(connection, null, $"SELECT {DatasetColumns} FROM datasets ORDER BY name");
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<LiveDatasetInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadDataset(reader).Info);
        }
        return list;
    }

    public async Task<LiveDatasetInfo?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        return (await FindAsync(connection, null, name, cancellationToken))?.Info;
    }

    public async Task<(LiveDatasetInfo Info, bool Created)> PutAsync(string name, LiveDatasetSettings settings, CancellationToken cancellationToken)
    {
        return await WriteAsync(async (connection, transaction) =>
        {
            Dataset? existing = await FindAsync(connection, transaction, name, cancellationToken);
            if (existing is null)
            {
                await using SqliteCommand insert = Command(connection, transaction,
                    "INSERT INTO datasets(name, version, settings, created_at) VALUES ($name, 1, $settings, $now)",
                    ("$name", name), ("$settings", StoredText.Settings(settings)), ("$now", _clock.GetUtcNow().ToUnixTimeMilliseconds()));
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
            else
            {
                await using SqliteCommand update = Command(connection, transaction,
                    "UPDATE datasets SET settings = $settings, version = version + 1 WHERE key = $key",
                    ("$settings", StoredText.Settings(settings)), ("$key", existing.Key));
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            Dataset after = (await FindAsync(connection, transaction, name, cancellationToken))!;
            return ((after.Info, existing is null), true);
        }, cancellationToken);
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        return await WriteAsync(async (connection, transaction) =>
        {
            if (await FindAsync(connection, transaction, name, cancellationToken) is not { } ds)
            {
                return (false, false);
            }
            foreach (string table in DatasetTables)
            {
                await using SqliteCommand delete = Command(connection, transaction,
                    $"DELETE FROM {table} WHERE {(table == "datasets" ? "key" : "ds")} = $ds", ("$ds", ds.Key));
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            _caches.Remove(ds.Key);
            return (true, true);
        }, cancellationToken);
    }

    public async Task<WriteCounts> WriteItemsAsync(string name, IAsyncEnumerable<(long Line, LiveItem Record)> items, ProblemCollector problems, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(problems);
        return await WriteAsync(async (connection, transaction) =>
        {
            Dataset ds = await FindAsync(connection, transaction, name, cancellationToken) ?? throw new DatasetNotFoundException(name);
            KeyCache cache = await CacheAsync(connection, transaction, ds.Key, cancellationToken);
            await using SqliteCommand insert = Command(connection, transaction,
                "INSERT INTO items(ds, id, title, categories, hidden, ts, labels) VALUES ($ds, $id, $title, $categories, $hidden, $ts, $labels) RETURNING key",
                ("$ds", ds.Key), ("$id", ""), ("$title", null), ("$categories", null), ("$hidden", 0), ("$ts", null), ("$labels", null));
            await using SqliteCommand update = Command(connection, transaction,
                "UPDATE items SET title = $title, categories = $categories, hidden = $hidden, ts = $ts, labels = $labels WHERE key = $key",
                ("$key", 0L), ("$title", null), ("$categories", null), ("$hidden", 0), ("$ts", null), ("$labels", null));
            long inserted = 0, updated = 0;
            await foreach ((_, LiveItem item) in items.WithCancellation(cancellationToken))
            {
                bool exists = cache.TryItem(item.ItemId, out long key);
                SqliteCommand command = exists ? update : insert;
                if (exists)
                {
                    command.Parameters["$key"].Value = key;
                }
                else
                {
                    command.Parameters["$id"].Value = item.ItemId;
                }
                command.Parameters["$title"].Value = (object?)item.Title ?? DBNull.Value;
                command.Parameters["$categories"].Value = (object?)StoredText.Categories(item.Categories) ?? DBNull.Value;
                command.Parameters["$hidden"].Value = item.Hidden ? 1 : 0;
                command.Parameters["$ts"].Value = (object?)item.Timestamp ?? DBNull.Value;
                command.Parameters["$labels"].Value = (object?)StoredText.Labels(item.Labels) ?? DBNull.Value;
                if (exists)
                {
                    await command.ExecuteNonQueryAsync(cancellationToken);
                    updated++;
                }
                else
                {
                    cache.AddItem(item.ItemId, (long)(await command.ExecuteScalarAsync(cancellationToken))!);
                    inserted++;
                }
            }
            if (problems.Any)
            {
                throw problems.Refusal("items");
            }
            long version = await BumpAsync(connection, transaction, ds.Key, 0, inserted, 0, null, cancellationToken);
            return (new WriteCounts(inserted, updated, version), true);
        }, cancellationToken);
    }

    public async Task<WriteCounts> WriteFeedbackAsync(string name, IAsyncEnumerable<(long Line, LiveFeedback Record)> feedback, ProblemCollector problems, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        ArgumentNullException.ThrowIfNull(problems);
        return await WriteAsync(async (connection, transaction) =>
        {
            Dataset ds = await FindAsync(connection, transaction, name, cancellationToken) ?? throw new DatasetNotFoundException(name);
            KeyCache cache = await CacheAsync(connection, transaction, ds.Key, cancellationToken);
            bool createItems = ds.Info.Settings.CreatesItems;
            // This process is the file's only writer, so it hands out the keys of new users and items itself: the
            // records go to the writer thread without a round trip per new id.
            long nextUser = await NextKeyAsync(connection, transaction, "users", cancellationToken);
            long nextItem = await NextKeyAsync(connection, transaction, "items", cancellationToken);
            using var writer = new SqliteFeedbackWriter(connection, ds.Key);
            long inserted = 0, newUsers = 0, newItems = 0;
            long? latest = null;
            try
            {
                await foreach ((long line, LiveFeedback f) in feedback.WithCancellation(cancellationToken))
                {
                    if (!cache.TryItem(f.ItemId, out long itemKey))
                    {
                        if (!createItems)
                        {
                            problems.Add(line, "itemId", $"Unknown item '{Apis.Echo.Of(f.ItemId)}': the data set does not create items from feedback (autoCreateItems is false); add it through /items first.");
                            continue;
                        }
                        itemKey = nextItem++;
                        cache.AddItem(f.ItemId, itemKey);
                        writer.NewItem(itemKey, f.ItemId);
                        newItems++;
                    }
                    if (problems.Any)
                    {
                        continue; // refused anyway: only look for more problems
                    }
                    if (!cache.TryUser(f.UserId, out long userKey))
                    {
                        userKey = nextUser++;
                        cache.AddUser(f.UserId, userKey);
                        writer.NewUser(userKey, f.UserId);
                        newUsers++;
                    }
                    await writer.AddAsync(userKey, itemKey, f.Type, f.Value, f.Timestamp);
                    inserted++;
                    if (f.Timestamp is { } t)
                    {
                        latest = latest is { } l ? Math.Max(l, t) : t;
                    }
                }
                await writer.CompleteAsync();
            }
            finally
            {
                await writer.StopAsync(); // the connection is this thread's again before anything else touches it
            }
            if (problems.Any)
            {
                throw problems.Refusal("feedback records");
            }
            long version = await BumpAsync(connection, transaction, ds.Key, newUsers, newItems, inserted, latest, cancellationToken);
            return (new WriteCounts(inserted, 0, version), true);
        }, cancellationToken);
    }

    /// <summary>The key AUTOINCREMENT would give the next row of <paramref name="table"/>: past every key it ever gave.</summary>
    private static async Task<long> NextKeyAsync(SqliteConnection connection, SqliteTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using SqliteCommand command = Command(connection, transaction,
            $"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0), coalesce((SELECT max(key) FROM {table}), 0)) + 1");
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public async Task<long?> EraseUserAsync(string name, string userId, CancellationToken cancellationToken)
    {
        return await WriteAsync<long?>(async (connection, transaction) =>
        {
            if (await FindAsync(connection, transaction, name, cancellationToken) is not { } ds)
            {
                return (null, false);
            }
            await using SqliteCommand find = Command(connection, transaction, "SELECT key FROM users WHERE ds = $ds AND id = $id", ("$ds", ds.Key), ("$id", userId));
            if (await find.ExecuteScalarAsync(cancellationToken) is not long key)
            {
                return (null, false);
            }
            await using SqliteCommand feedback = Command(connection, transaction, "DELETE FROM feedback WHERE ds = $ds AND user_key = $key", ("$ds", ds.Key), ("$key", key));
            long erased = await feedback.ExecuteNonQueryAsync(cancellationToken);
            await using SqliteCommand user = Command(connection, transaction, "DELETE FROM users WHERE key = $key", ("$key", key));
            await user.ExecuteNonQueryAsync(cancellationToken);
            await using SqliteCommand bump = Command(connection, transaction, """
                UPDATE datasets SET version = version + 1, users = users - 1, feedback = feedback - $erased,
                    last_feedback_at = (SELECT max(ts) FROM feedback WHERE ds = $ds) WHERE key = $ds
                """, ("$erased", erased), ("$ds", ds.Key));
            await bump.ExecuteNonQueryAsync(cancellationToken);
            _caches.Remove(ds.Key); // reloaded by the next write, whether this one commits or not
            return (erased, true);
        }, cancellationToken);
    }

    public async IAsyncEnumerable<LiveItem> ExportItemsAsync(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
        Dataset ds = await FindAsync(connection, transaction, name, cancellationToken) ?? throw new DatasetNotFoundException(name);
        await using SqliteCommand command = Command(connection, transaction,
            "SELECT key, id, title, categories, hidden, ts, labels FROM items WHERE ds = $ds ORDER BY key", ("$ds", ds.Key));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadItem(reader);
        }
    }

    public async IAsyncEnumerable<LiveFeedback> ExportFeedbackAsync(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
        Dataset ds = await FindAsync(connection, transaction, name, cancellationToken) ?? throw new DatasetNotFoundException(name);
        Dictionary<long, string> users = await IdsAsync(connection, transaction, "users", ds.Key, cancellationToken);
        Dictionary<long, string> items = await IdsAsync(connection, transaction, "items", ds.Key, cancellationToken);
        await using SqliteCommand command = Command(connection, transaction,
            "SELECT user_key, item_key, type, value, ts FROM feedback WHERE ds = $ds ORDER BY rowid", ("$ds", ds.Key));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new LiveFeedback(users[reader.GetInt64(0)], items[reader.GetInt64(1)], reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetDouble(3), reader.IsDBNull(4) ? null : reader.GetInt64(4));
        }
    }

    public async Task<IReadOnlySet<string>?> UserIdsAsync(string name, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
        return await FindAsync(connection, transaction, name, cancellationToken) is { } ds
            ? (await IdsAsync(connection, transaction, "users", ds.Key, cancellationToken)).Values.ToHashSet(StringComparer.Ordinal)
            : null;
    }

    public async Task<IReadOnlyDictionary<string, long>?> RecentItemCountsAsync(string name, TimeSpan window, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
        if (await FindAsync(connection, transaction, name, cancellationToken) is not { } ds)
        {
            return null;
        }
        long since = _clock.GetUtcNow().Subtract(window).ToUnixTimeSeconds();
        await using SqliteCommand command = Command(connection, transaction, """
            SELECT i.id, f.type, COUNT(*) FROM feedback f JOIN items i ON i.key = f.item_key
            WHERE f.ds = $ds AND f.ts >= $since AND (f.type <> 'rating' OR f.value > 0)
            GROUP BY f.item_key, f.type
            """, ("$ds", ds.Key), ("$since", since));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await RecentFeedback.SumAsync(reader, ds.Info.Settings, cancellationToken);
    }

    public async Task<LiveSnapshot?> ReadSnapshotAsync(string name, CancellationToken cancellationToken)
    {
        await using SqliteConnection connection = await OpenAsync(cancellationToken);
        // A deferred transaction's first read fixes its view of the WAL: every read below sees that one version.
        await using SqliteTransaction transaction = connection.BeginTransaction(deferred: true);
        if (await FindAsync(connection, transaction, name, cancellationToken) is not { } ds)
        {
            return null;
        }
        var builder = new SnapshotBuilder(ds.Info.Settings, ds.Info.Feedback);
        await using (SqliteCommand users = Command(connection, transaction, "SELECT key, id FROM users WHERE ds = $ds ORDER BY key", ("$ds", ds.Key)))
        await using (SqliteDataReader reader = await users.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                builder.AddUser(reader.GetInt64(0), reader.GetString(1));
            }
        }
        await using (SqliteCommand items = Command(connection, transaction,
            "SELECT key, id, title, categories, hidden, ts, labels FROM items WHERE ds = $ds ORDER BY key", ("$ds", ds.Key)))
        await using (SqliteDataReader reader = await items.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                builder.AddItem(reader.GetInt64(0), ReadItem(reader));
            }
        }
        ReadFeedback(connection, ds.Key, builder, cancellationToken);
        return builder.Build(name, ds.Info.Version);
    }

    /// <summary>
    /// The snapshot's feedback straight from SQLite's statement (no data reader, no boxing): integer keys and the type
    /// as its index among the declared ones, computed in SQL so no string is read per row.
    /// </summary>
    private static void ReadFeedback(SqliteConnection connection, long ds, SnapshotBuilder builder, CancellationToken cancellationToken)
    {
        var cases = new System.Text.StringBuilder();
        for (int i = 0; i < builder.Types.Count; i++)
        {
            cases.Append(CultureInfo.InvariantCulture, $" WHEN ?{i + 2} THEN {i}");
        }
        string type = builder.Types.Count == 0 ? "-1" : $"CASE type{cases} ELSE -1 END";
        sqlite3 db = connection.Handle!;
        Check(db, raw.sqlite3_prepare_v2(db, $"SELECT user_key, item_key, {type}, value, ts FROM feedback WHERE ds = ?1 ORDER BY rowid", out sqlite3_stmt statement));
        using (statement)
        {
            Check(db, raw.sqlite3_bind_int64(statement, 1, ds));
            for (int i = 0; i < builder.Types.Count; i++)
            {
                Check(db, raw.sqlite3_bind_text(statement, i + 2, builder.Types[i]));
            }
            int rc;
            for (long row = 0; (rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW; row++)
            {
                if ((row & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                builder.AddFeedback(raw.sqlite3_column_int64(statement, 0), raw.sqlite3_column_int64(statement, 1), raw.sqlite3_column_int(statement, 2),
                    raw.sqlite3_column_type(statement, 3) == raw.SQLITE_NULL ? null : raw.sqlite3_column_double(statement, 3),
                    raw.sqlite3_column_type(statement, 4) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(statement, 4));
            }
            if (rc != raw.SQLITE_DONE)
            {
                Check(db, rc);
            }
        }
    }

    private static void Check(sqlite3 db, int rc)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException(raw.sqlite3_errmsg(db).utf8_to_string(), rc);
        }
    }

    public void Dispose()
    {
        _writer.Dispose();
        _init.Dispose();
        SqliteConnection.ClearAllPools();
    }

    /// <summary>Runs one write transaction under the process's writer lock; commits only when <paramref name="work"/> says so.</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<(T Result, bool Commit)>> work, CancellationToken cancellationToken)
    {
        await _writer.WaitAsync(cancellationToken);
        try
        {
            await using SqliteConnection connection = await OpenAsync(cancellationToken);
            // A write is answered once it is on disk: FULL syncs the WAL at each commit (NORMAL would survive a crash of
            // this process, not of the machine). One sync per write, whatever its size.
            await using (SqliteCommand durable = Command(connection, null, "PRAGMA synchronous = FULL"))
            {
                await durable.ExecuteNonQueryAsync(cancellationToken);
            }
            await using SqliteTransaction transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            bool committed = false;
            try
            {
                (T result, bool commit) = await work(connection, transaction);
                if (commit)
                {
                    await transaction.CommitAsync(cancellationToken);
                    committed = true;
                }
                return result;
            }
            finally
            {
                foreach (KeyCache cache in _caches.Values)
                {
                    if (committed)
                    {
                        cache.Commit();
                    }
                    else
                    {
                        cache.Rollback();
                    }
                }
            }
        }
        finally
        {
            _writer.Release();
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_ready)
        {
            await _init.WaitAsync(cancellationToken);
            try
            {
                if (!_ready)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
                    await using var first = new SqliteConnection(_connectionString);
                    await first.OpenAsync(cancellationToken);
                    await using SqliteCommand schema = Command(first, null, Schema);
                    await schema.ExecuteNonQueryAsync(cancellationToken);
                    _ready = true;
                }
            }
            finally
            {
                _init.Release();
            }
        }
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        // Durable at commit in WAL mode with NORMAL: a crash loses no committed transaction, only the OS losing power could.
        await using SqliteCommand pragma = Command(connection, null, "PRAGMA synchronous = NORMAL");
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private async Task<KeyCache> CacheAsync(SqliteConnection connection, SqliteTransaction transaction, long ds, CancellationToken cancellationToken)
    {
        if (_caches.TryGetValue(ds, out KeyCache? cache))
        {
            return cache;
        }
        cache = new KeyCache();
        foreach ((long key, string id) in await IdsAsync(connection, transaction, "users", ds, cancellationToken))
        {
            cache.Users[id] = key;
        }
        foreach ((long key, string id) in await IdsAsync(connection, transaction, "items", ds, cancellationToken))
        {
            cache.Items[id] = key;
        }
        _caches[ds] = cache;
        return cache;
    }

    private static async Task<Dictionary<long, string>> IdsAsync(SqliteConnection connection, SqliteTransaction transaction, string table, long ds, CancellationToken cancellationToken)
    {
        var ids = new Dictionary<long, string>();
        await using SqliteCommand command = Command(connection, transaction, $"SELECT key, id FROM {table} WHERE ds = $ds", ("$ds", ds));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids[reader.GetInt64(0)] = reader.GetString(1);
        }
        return ids;
    }

    private static async Task<long> BumpAsync(SqliteConnection connection, SqliteTransaction transaction, long ds, long users, long items, long feedback, long? latest, CancellationToken cancellationToken)
    {
        await using SqliteCommand bump = Command(connection, transaction, """
            UPDATE datasets SET version = version + 1, users = users + $users, items = items + $items, feedback = feedback + $feedback,
                last_feedback_at = CASE WHEN $latest IS NULL THEN last_feedback_at ELSE max(coalesce(last_feedback_at, $latest), $latest) END
            WHERE key = $ds RETURNING version
            """, ("$users", users), ("$items", items), ("$feedback", feedback), ("$latest", latest), ("$ds", ds));
        return (long)(await bump.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<Dataset?> FindAsync(SqliteConnection connection, SqliteTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        await using SqliteCommand command = Command(connection, transaction, $"SELECT {DatasetColumns} FROM datasets WHERE name = $name", ("$name", name));
        await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDataset(reader) : null;
    }

    private static Dataset ReadDataset(SqliteDataReader r) => new(r.GetInt64(0), new LiveDatasetInfo(
        r.GetString(1), r.GetInt64(2), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.IsDBNull(8) ? null : r.GetInt64(8),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), StoredText.Settings(r.GetString(3))));

    private static LiveItem ReadItem(SqliteDataReader r) => new(
        r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), StoredText.Categories(r.IsDBNull(3) ? null : r.GetString(3)),
        r.GetInt64(4) != 0, r.IsDBNull(5) ? null : r.GetInt64(5), StoredText.Labels(r.IsDBNull(6) ? null : r.GetString(6)));

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        SqliteCommand command = connection.CreateCommand();
        command.Transaction = transaction;
#pragma warning disable CA2100 // the SQL is this class's own text; values go in parameters
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach ((string n, object? v) in parameters)
        {
            command.Parameters.AddWithValue(n, v ?? DBNull.Value);
        }
        return command;
    }

    private sealed record Dataset(long Key, LiveDatasetInfo Info);

    /// <summary>A data set's id-to-key maps, with the keys added by the write in progress kept apart until it commits.</summary>
    private sealed class KeyCache
    {
        public Dictionary<string, long> Users { get; } = new(StringComparer.Ordinal);
        public Dictionary<string, long> Items { get; } = new(StringComparer.Ordinal);
        private readonly List<string> _newUsers = [];
        private readonly List<string> _newItems = [];

        public bool TryUser(string id, out long key) => Users.TryGetValue(id, out key);

        public bool TryItem(string id, out long key) => Items.TryGetValue(id, out key);

        public void AddUser(string id, long key)
        {
            Users[id] = key;
            _newUsers.Add(id);
        }

        public void AddItem(string id, long key)
        {
            Items[id] = key;
            _newItems.Add(id);
        }

        public void Commit()
        {
            _newUsers.Clear();
            _newItems.Clear();
        }

        public void Rollback()
        {
            _newUsers.ForEach(id => Users.Remove(id));
            _newItems.ForEach(id => Items.Remove(id));
            Commit();
        }
    }
}
