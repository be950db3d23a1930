using System.Runtime.CompilerServices;
using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace RankService.Api.Datasets;

/// <summary>
/// Live data sets in PostgreSQL (the Hangfire server, schema Data:LiveSchema), shared by api and worker nodes. A write
/// locks its data set's row (writes to one data set queue; other data sets and snapshot reads go on). Items are
/// binary-COPYed into a staging table of the transaction and upserted in one statement; feedback resolves ids against
/// the data set's id -> key maps in memory (new users and items draw keys from their identity sequences) and is
/// binary-COPYed straight into its table. A refused or broken-off write leaves nothing behind. Snapshots
/// and exports read in one REPEATABLE READ transaction. Feedback is indexed by (data set, insertion order) only, the
/// order snapshots read it in; erasing a user scans their data set's feedback rather than slowing every import.
/// </summary>
public sealed class PostgresLiveDatasetStore : ILiveDatasetStore, IDisposable
{
    private static readonly string[] RowTables = ["feedback", "users", "items"];
    private readonly NpgsqlDataSource _source;
    private readonly string _s;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _init = new(1, 1);
    private bool _ready;

    public PostgresLiveDatasetStore(string connectionString, string schema, TimeProvider clock)
    {
        _source = NpgsqlDataSource.Create(connectionString);
        _s = schema;
        _clock = clock;
    }

    private const string DatasetColumns = "key, name, version, settings, created_at, users, items, feedback, last_feedback_at";

    public async Task<IReadOnlyList<LiveDatasetInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        await using NpgsqlCommand command = Command(connection, null, $"SELECT {DatasetColumns} FROM {_s}.datasets ORDER BY name");
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<LiveDatasetInfo>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(ReadDataset(reader).Info);
        }
        return list;
    }

    public async Task<LiveDatasetInfo?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        return (await FindAsync(connection, null, name, false, cancellationToken))?.Info;
    }

    public Task<(LiveDatasetInfo Info, bool Created)> PutAsync(string name, LiveDatasetSettings settings, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using NpgsqlCommand upsert = Command(connection, transaction, $"""
                INSERT INTO {_s}.datasets(name, version, settings, created_at) VALUES (@name, 1, @settings, @now)
                ON CONFLICT (name) DO UPDATE SET settings = EXCLUDED.settings, version = {_s}.datasets.version + 1
                RETURNING (xmax = 0)
                """, ("name", name), ("settings", StoredText.Settings(settings)), ("now", _clock.GetUtcNow().ToUnixTimeMilliseconds()));
            bool created = (bool)(await upsert.ExecuteScalarAsync(cancellationToken))!;
            Dataset after = (await FindAsync(connection, transaction, name, false, cancellationToken))!;
            return (after.Info, created);
        }, cancellationToken);

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            if (await FindAsync(connection, transaction, name, true, cancellationToken) is not { } ds)
            {
                return false;
            }
            foreach (string table in RowTables)
            {
                await using NpgsqlCommand delete = Command(connection, transaction, $"DELETE FROM {_s}.{table} WHERE ds = @ds", ("ds", ds.Key));
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }
            await using NpgsqlCommand row = Command(connection, transaction, $"DELETE FROM {_s}.datasets WHERE key = @ds", ("ds", ds.Key));
            await row.ExecuteNonQueryAsync(cancellationToken);
            return true;
        }, cancellationToken);

    public Task<WriteCounts> WriteItemsAsync(string name, IAsyncEnumerable<(long Line, LiveItem Record)> items, ProblemCollector problems, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(problems);
        return WriteAsync(async (connection, transaction) =>
        {
            Dataset ds = await FindAsync(connection, transaction, name, true, cancellationToken) ?? throw new DatasetNotFoundException(name);
            await ExecuteAsync(connection, transaction, """
                CREATE TEMP TABLE staging_items(ord bigint, id text, title text, categories text, hidden boolean, ts bigint, labels text) ON COMMIT DROP
                """, cancellationToken);
            await using (NpgsqlBinaryImporter copy = await connection.BeginBinaryImportAsync(
                "COPY staging_items (ord, id, title, categories, hidden, ts, labels) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                await foreach ((long line, LiveItem item) in items.WithCancellation(cancellationToken))
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(line, NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(item.ItemId, NpgsqlDbType.Text, cancellationToken);
                    await WriteNullable(copy, item.Title, NpgsqlDbType.Text, cancellationToken);
                    await WriteNullable(copy, StoredText.Categories(item.Categories), NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(item.Hidden, NpgsqlDbType.Boolean, cancellationToken);
                    await WriteNullable(copy, item.Timestamp, NpgsqlDbType.Bigint, cancellationToken);
                    await WriteNullable(copy, StoredText.Labels(item.Labels), NpgsqlDbType.Text, cancellationToken);
                }
                if (problems.Any)
                {
                    throw problems.Refusal("items");
                }
                await copy.CompleteAsync(cancellationToken);
            }
            await using NpgsqlCommand upsert = Command(connection, transaction, $"""
                WITH up AS (
                    INSERT INTO {_s}.items(ds, id, title, categories, hidden, ts, labels)
                    SELECT @ds, id, title, categories, hidden, ts, labels FROM staging_items ORDER BY ord
                    ON CONFLICT (ds, id) DO UPDATE SET title = EXCLUDED.title, categories = EXCLUDED.categories,
                        hidden = EXCLUDED.hidden, ts = EXCLUDED.ts, labels = EXCLUDED.labels
                    RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
                """, ("ds", ds.Key));
            long inserted, updated;
            await using (NpgsqlDataReader reader = await upsert.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                (inserted, updated) = (reader.GetInt64(0), reader.GetInt64(1));
            }
            long version = await BumpAsync(connection, transaction, ds.Key, 0, inserted, 0, null, cancellationToken);
            return new WriteCounts(inserted, updated, version);
        }, cancellationToken);
    }

    public Task<WriteCounts> WriteFeedbackAsync(string name, IAsyncEnumerable<(long Line, LiveFeedback Record)> feedback, ProblemCollector problems, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        ArgumentNullException.ThrowIfNull(problems);
        return WriteAsync(async (connection, transaction) =>
        {
            Dataset ds = await FindAsync(connection, transaction, name, true, cancellationToken) ?? throw new DatasetNotFoundException(name);
            // The row lock makes this transaction the only writer of the data set's users, items and feedback, so ids
            // resolve in memory and rows go straight into feedback: a join of millions of staged rows ran on one core
            // at < 40,000 rows/s.
            Dictionary<string, long> users = await KeysAsync(connection, transaction, "users", ds.Key, cancellationToken);
            Dictionary<string, long> items = await KeysAsync(connection, transaction, "items", ds.Key, cancellationToken);
            bool createsItems = ds.Info.Settings.CreatesItems;
            var newUsers = new List<(long Key, string Id)>();
            var newItems = new List<(long Key, string Id)>();
            var unknown = new List<(long Line, string ItemId)>();
            long inserted = 0;
            long? latest = null;
            await using var userKeys = new KeyDrawer(_source, $"{_s}.users", cancellationToken);
            await using var itemKeys = new KeyDrawer(_source, $"{_s}.items", cancellationToken);
            await using (NpgsqlBinaryImporter copy = await connection.BeginBinaryImportAsync(
                $"COPY {_s}.feedback (ds, user_key, item_key, type, value, ts) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                // Parsing runs ahead on its own thread (problems are only read once it is done); each row is written
                // with the importer's synchronous calls, which only block when its buffer goes out, not an awaited call
                // per field.
                await foreach ((long line, LiveFeedback f) in ReadAhead.Of(feedback, cancellationToken))
                {
                    if (!items.TryGetValue(f.ItemId, out long itemKey))
                    {
                        if (!createsItems)
                        {
                            if (unknown.Count <= ProblemCollector.Limit)
                            {
                                unknown.Add((line, f.ItemId));
                            }
                            continue;
                        }
                        itemKey = await itemKeys.NextAsync();
                        items.Add(f.ItemId, itemKey);
                        newItems.Add((itemKey, f.ItemId));
                    }
                    if (!users.TryGetValue(f.UserId, out long userKey))
                    {
                        userKey = await userKeys.NextAsync();
                        users.Add(f.UserId, userKey);
                        newUsers.Add((userKey, f.UserId));
                    }
                    copy.StartRow();
                    copy.Write(ds.Key, NpgsqlDbType.Bigint);
                    copy.Write(userKey, NpgsqlDbType.Bigint);
                    copy.Write(itemKey, NpgsqlDbType.Bigint);
                    copy.Write(f.Type, NpgsqlDbType.Text);
                    WriteNullable(copy, f.Value, NpgsqlDbType.Double);
                    WriteNullable(copy, f.Timestamp, NpgsqlDbType.Bigint);
                    inserted++;
                    if (f.Timestamp is { } ts && (latest is null || ts > latest))
                    {
                        latest = ts;
                    }
                }
                // Leaving without CompleteAsync cancels the COPY (and the transaction rolls back): nothing is written.
                if (problems.Any)
                {
                    throw problems.Refusal("feedback records");
                }
                foreach ((long line, string itemId) in unknown)
                {
                    problems.Add(line, "itemId", $"Unknown item '{Apis.Echo.Of(itemId)}': the data set does not create items from feedback (autoCreateItems is false); add it through /items first.");
                }
                if (problems.Any)
                {
                    throw problems.Refusal("feedback records");
                }
                await copy.CompleteAsync(cancellationToken);
            }
            // Keys drawn but not used (a block's rest, a refused import) are gaps, as a rolled-back INSERT leaves.
            await CopyKeysAsync(connection, "users", ds.Key, newUsers, cancellationToken);
            await CopyKeysAsync(connection, "items", ds.Key, newItems, cancellationToken);
            long version = await BumpAsync(connection, transaction, ds.Key, newUsers.Count, newItems.Count, inserted, latest, cancellationToken);
            return new WriteCounts(inserted, 0, version);
        }, cancellationToken);
    }

    /// <summary>The data set's id -> key map of one of its tables.</summary>
    private async Task<Dictionary<string, long>> KeysAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, long ds, CancellationToken cancellationToken)
    {
        var keys = new Dictionary<string, long>(StringComparer.Ordinal);
        await using NpgsqlCommand command = Command(connection, transaction, $"SELECT id, key FROM {_s}.{table} WHERE ds = @ds", ("ds", ds));
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(reader.GetString(0), reader.GetInt64(1));
        }
        return keys;
    }

    /// <summary>New users or items with the keys the feedback rows already refer to (COPY takes values for an identity column).</summary>
    private async Task CopyKeysAsync(NpgsqlConnection connection, string table, long ds, List<(long Key, string Id)> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }
        await using NpgsqlBinaryImporter copy = await connection.BeginBinaryImportAsync($"COPY {_s}.{table} (key, ds, id) FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach ((long key, string id) in rows)
        {
            copy.StartRow();
            copy.Write(key, NpgsqlDbType.Bigint);
            copy.Write(ds, NpgsqlDbType.Bigint);
            copy.Write(id, NpgsqlDbType.Text);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    public Task<long?> EraseUserAsync(string name, string userId, CancellationToken cancellationToken) =>
        WriteAsync<long?>(async (connection, transaction) =>
        {
            if (await FindAsync(connection, transaction, name, true, cancellationToken) is not { } ds)
            {
                return null;
            }
            await using NpgsqlCommand find = Command(connection, transaction, $"DELETE FROM {_s}.users WHERE ds = @ds AND id = @id RETURNING key", ("ds", ds.Key), ("id", userId));
            if (await find.ExecuteScalarAsync(cancellationToken) is not long key)
            {
                return null;
            }
            long erased = await ExecuteAsync(connection, transaction, $"DELETE FROM {_s}.feedback WHERE ds = @ds AND user_key = @key", cancellationToken, ("ds", ds.Key), ("key", key));
            await ExecuteAsync(connection, transaction, $"""
                UPDATE {_s}.datasets SET version = version + 1, users = users - 1, feedback = feedback - @erased,
                    last_feedback_at = (SELECT max(ts) FROM {_s}.feedback WHERE ds = @ds) WHERE key = @ds
                """, cancellationToken, ("erased", erased), ("ds", ds.Key));
            return erased;
        }, cancellationToken);

    public async IAsyncEnumerable<LiveItem> ExportItemsAsync(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        Dataset ds = await FindAsync(connection, transaction, name, false, cancellationToken) ?? throw new DatasetNotFoundException(name);
        await using NpgsqlCommand command = Command(connection, transaction,
            $"SELECT key, id, title, categories, hidden, ts, labels FROM {_s}.items WHERE ds = @ds ORDER BY key", ("ds", ds.Key));
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadItem(reader);
        }
    }

    public async IAsyncEnumerable<LiveFeedback> ExportFeedbackAsync(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        Dataset ds = await FindAsync(connection, transaction, name, false, cancellationToken) ?? throw new DatasetNotFoundException(name);
        await using NpgsqlCommand command = Command(connection, transaction, $"""
            SELECT u.id, i.id, f.type, f.value, f.ts FROM {_s}.feedback f
            JOIN {_s}.users u ON u.key = f.user_key JOIN {_s}.items i ON i.key = f.item_key
            WHERE f.ds = @ds ORDER BY f.seq
            """, ("ds", ds.Key));
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return new LiveFeedback(reader.GetString(0), reader.GetString(1), reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetDouble(3), reader.IsDBNull(4) ? null : reader.GetInt64(4));
        }
    }

    public async Task<IReadOnlyDictionary<string, long>?> RecentItemCountsAsync(string name, TimeSpan window, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        if (await FindAsync(connection, transaction, name, false, cancellationToken) is not { } ds)
        {
            return null;
        }
        long since = _clock.GetUtcNow().Subtract(window).ToUnixTimeSeconds();
        await using NpgsqlCommand command = Command(connection, transaction, $"""
            SELECT i.id, f.type, COUNT(*) FROM {_s}.feedback f JOIN {_s}.items i ON i.key = f.item_key
            WHERE f.ds = @ds AND f.ts >= @since AND (f.type <> 'rating' OR f.value > 0)
            GROUP BY i.id, f.type
            """, ("ds", ds.Key), ("since", since));
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await RecentFeedback.SumAsync(reader, ds.Info.Settings, cancellationToken);
    }

    public async Task<IReadOnlySet<string>?> UserIdsAsync(string name, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        if (await FindAsync(connection, transaction, name, false, cancellationToken) is not { } ds)
        {
            return null;
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        await using NpgsqlCommand command = Command(connection, transaction, $"SELECT id FROM {_s}.users WHERE ds = @ds", ("ds", ds.Key));
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }
        return ids;
    }

    public async Task<LiveSnapshot?> ReadSnapshotAsync(string name, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        if (await FindAsync(connection, transaction, name, false, cancellationToken) is not { } ds)
        {
            return null;
        }
        var builder = new SnapshotBuilder(ds.Info.Settings, ds.Info.Feedback);
        await using (NpgsqlCommand users = Command(connection, transaction, $"SELECT key, id FROM {_s}.users WHERE ds = @ds ORDER BY key", ("ds", ds.Key)))
        await using (NpgsqlDataReader reader = await users.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                builder.AddUser(reader.GetInt64(0), reader.GetString(1));
            }
        }
        await using (NpgsqlCommand items = Command(connection, transaction,
            $"SELECT key, id, title, categories, hidden, ts, labels FROM {_s}.items WHERE ds = @ds ORDER BY key", ("ds", ds.Key)))
        await using (NpgsqlDataReader reader = await items.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                builder.AddItem(reader.GetInt64(0), ReadItem(reader));
            }
        }
        // Binary COPY out: the rows stream without a round trip per batch, as integers, the type already turned into
        // its index among the declared ones (the names are the data set's own: letters, digits, '-', '_', '.').
        string cases = string.Concat(builder.Types.Select((t, i) => $" WHEN '{t.Replace("'", "''", StringComparison.Ordinal)}' THEN {i}"));
        string type = builder.Types.Count == 0 ? "-1" : $"CASE type{cases} ELSE -1 END";
        await using (NpgsqlBinaryExporter export = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT user_key, item_key, ({type})::integer, value, ts FROM {_s}.feedback WHERE ds = {ds.Key} ORDER BY seq) TO STDOUT (FORMAT BINARY)", cancellationToken))
        {
            for (long row = 0; export.StartRow() != -1; row++)
            {
                if ((row & 0xFFFF) == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
                long user = export.Read<long>(NpgsqlDbType.Bigint), item = export.Read<long>(NpgsqlDbType.Bigint);
                int typeIndex = export.Read<int>(NpgsqlDbType.Integer);
                double? value = export.IsNull ? Skip<double>(export) : export.Read<double>(NpgsqlDbType.Double);
                long? ts = export.IsNull ? Skip<long>(export) : export.Read<long>(NpgsqlDbType.Bigint);
                builder.AddFeedback(user, item, typeIndex, value, ts);
            }
        }
        return builder.Build(name, ds.Info.Version);
    }

    public void Dispose()
    {
        _source.Dispose();
        _init.Dispose();
    }

    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await OpenAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        T result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!_ready)
        {
            await _init.WaitAsync(cancellationToken);
            try
            {
                if (!_ready)
                {
                    await CreateSchemaAsync(cancellationToken);
                    _ready = true;
                }
            }
            finally
            {
                _init.Release();
            }
        }
        return await _source.OpenConnectionAsync(cancellationToken);
    }

    /// <summary>Idempotent; an advisory lock keeps an api and a worker node starting together from racing on CREATE.</summary>
    private async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        await using NpgsqlConnection connection = await _source.OpenConnectionAsync(cancellationToken);
        await using NpgsqlTransaction transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, transaction, $"""
            SELECT pg_advisory_xact_lock(hashtext('{_s}.schema'));
            CREATE SCHEMA IF NOT EXISTS {_s};
            CREATE TABLE IF NOT EXISTS {_s}.datasets(
                key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE, version bigint NOT NULL,
                settings text NOT NULL, created_at bigint NOT NULL, users bigint NOT NULL DEFAULT 0, items bigint NOT NULL DEFAULT 0,
                feedback bigint NOT NULL DEFAULT 0, last_feedback_at bigint);
            CREATE TABLE IF NOT EXISTS {_s}.users(key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ds bigint NOT NULL, id text NOT NULL, UNIQUE(ds, id));
            CREATE TABLE IF NOT EXISTS {_s}.items(
                key bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ds bigint NOT NULL, id text NOT NULL, title text, categories text,
                hidden boolean NOT NULL DEFAULT false, ts bigint, labels text, UNIQUE(ds, id));
            CREATE TABLE IF NOT EXISTS {_s}.feedback(
                seq bigint GENERATED ALWAYS AS IDENTITY, ds bigint NOT NULL, user_key bigint NOT NULL, item_key bigint NOT NULL,
                type text NOT NULL, value double precision, ts bigint);
            CREATE INDEX IF NOT EXISTS feedback_ds ON {_s}.feedback(ds, seq);
            """, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task<long> BumpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long ds, long users, long items, long feedback, long? latest, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand bump = Command(connection, transaction, $"""
            UPDATE {_s}.datasets SET version = version + 1, users = users + @users, items = items + @items, feedback = feedback + @feedback,
                last_feedback_at = CASE WHEN @latest::bigint IS NULL THEN last_feedback_at ELSE greatest(last_feedback_at, @latest::bigint) END
            WHERE key = @ds RETURNING version
            """, ("users", users), ("items", items), ("feedback", feedback), ("latest", latest), ("ds", ds));
        return (long)(await bump.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The data set's row; with <paramref name="lockRow"/>, locked until the transaction ends (writes to one data set queue here).</summary>
    private async Task<Dataset?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string name, bool lockRow, CancellationToken cancellationToken)
    {
        await using NpgsqlCommand command = Command(connection, transaction,
            $"SELECT {DatasetColumns} FROM {_s}.datasets WHERE name = @name{(lockRow ? " FOR UPDATE" : "")}", ("name", name));
        await using NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDataset(reader) : null;
    }

    private static async Task<long> ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using NpgsqlCommand command = Command(connection, transaction, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static T? Skip<T>(NpgsqlBinaryExporter export) where T : struct
    {
        export.Skip();
        return null;
    }

    private static void WriteNullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type) where T : struct
    {
        if (value is { } v)
        {
            copy.Write(v, type);
        }
        else
        {
            copy.WriteNull();
        }
    }

    private static async Task WriteNullable<T>(NpgsqlBinaryImporter copy, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await copy.WriteNullAsync(cancellationToken);
        }
        else
        {
            await copy.WriteAsync(value, type, cancellationToken);
        }
    }

    private static Dataset ReadDataset(NpgsqlDataReader r) => new(r.GetInt64(0), new LiveDatasetInfo(
        r.GetString(1), r.GetInt64(2), r.GetInt64(5), r.GetInt64(6), r.GetInt64(7), r.IsDBNull(8) ? null : r.GetInt64(8),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)), StoredText.Settings(r.GetString(3))));

    private static LiveItem ReadItem(NpgsqlDataReader r) => new(
        r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), StoredText.Categories(r.IsDBNull(3) ? null : r.GetString(3)),
        r.GetBoolean(4), r.IsDBNull(5) ? null : r.GetInt64(5), StoredText.Labels(r.IsDBNull(6) ? null : r.GetString(6)));

    private static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
#pragma warning disable CA2100 // the SQL is this class's own text (the schema name is validated by its option); values go in parameters
        // No 30 s default: an import's set-based statements move millions of rows; the client's connection bounds them.
        var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
#pragma warning restore CA2100
        foreach ((string n, object? v) in parameters)
        {
            command.Parameters.AddWithValue(n, v ?? DBNull.Value);
        }
        return command;
    }

    private sealed record Dataset(long Key, LiveDatasetInfo Info);
}
