using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace RankService.Api.Datasets;

/// <summary>
/// The SQLite side of a feedback write, on a thread of its own: the request thread parses and resolves ids into chunks
/// of key rows, this one inserts them through statements prepared once (bound with no boxing, stepped with no reader
/// per row) into the open transaction, so parsing and writing overlap. A failure on either side stops both; the caller
/// then rolls the transaction back. Nothing else may use the connection until <see cref="StopAsync"/> has returned.
/// </summary>
internal sealed class SqliteFeedbackWriter : IDisposable
{
    private const int ChunkRows = 8192;
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _feedback;
    private readonly sqlite3_stmt _user;
    private readonly sqlite3_stmt _item;
    private readonly Channel<Chunk> _full = Channel.CreateBounded<Chunk>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
    private readonly Channel<Chunk> _free = Channel.CreateUnbounded<Chunk>();
    private readonly Task _task;
    private Chunk _chunk = new();
    private volatile bool _stopped;

    public SqliteFeedbackWriter(SqliteConnection connection, long ds)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _db = connection.Handle!;
        _feedback = Prepare("INSERT INTO feedback(ds, user_key, item_key, type, value, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
        _user = Prepare("INSERT INTO users(ds, key, id) VALUES (?1, ?2, ?3)");
        _item = Prepare("INSERT INTO items(ds, key, id) VALUES (?1, ?2, ?3)");
        foreach (sqlite3_stmt statement in (sqlite3_stmt[])[_feedback, _user, _item])
        {
            Check(raw.sqlite3_bind_int64(statement, 1, ds)); // reset keeps bindings: the data set is bound once
        }
        _task = Task.Run(RunAsync);
    }

    public void NewUser(long key, string id) => _chunk.Users.Add((key, id));

    public void NewItem(long key, string id) => _chunk.Items.Add((key, id));

    public ValueTask AddAsync(long user, long item, string type, double? value, long? timestamp)
    {
        Chunk c = _chunk;
        int i = c.Count++;
        c.User[i] = user;
        c.Item[i] = item;
        c.Type[i] = type;
        c.HasValue[i] = value.HasValue;
        c.Value[i] = value.GetValueOrDefault();
        c.HasTimestamp[i] = timestamp.HasValue;
        c.Timestamp[i] = timestamp.GetValueOrDefault();
        return c.Count == ChunkRows ? FlushAsync() : ValueTask.CompletedTask;
    }

    /// <summary>Hands over the last rows and waits until every row is written; throws what the writer met.</summary>
    public async ValueTask CompleteAsync()
    {
        if (_chunk.Count > 0 || _chunk.Users.Count > 0 || _chunk.Items.Count > 0)
        {
            await FlushAsync();
        }
        _full.Writer.TryComplete();
        await _task;
    }

    /// <summary>Stops the writer (rows still queued are dropped) and waits for it: the connection is free again.</summary>
    public async ValueTask StopAsync()
    {
        _stopped = true;
        _full.Writer.TryComplete();
        try
        {
            await _task;
        }
#pragma warning disable CA1031 // its failure was thrown to the caller already, or a failure of the caller's is on its way
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    public void Dispose()
    {
        _feedback.Dispose();
        _user.Dispose();
        _item.Dispose();
    }

    private async ValueTask FlushAsync()
    {
        try
        {
            await _full.Writer.WriteAsync(_chunk);
        }
        catch (ChannelClosedException)
        {
            await _task; // the writer failed: its exception is the one to throw
            throw;
        }
        _chunk = _free.Reader.TryRead(out Chunk? free) ? free : new Chunk();
    }

    private async Task RunAsync()
    {
        try
        {
            await foreach (Chunk c in _full.Reader.ReadAllAsync())
            {
                if (!_stopped)
                {
                    Write(c);
                }
                c.Clear();
                _free.Writer.TryWrite(c);
            }
        }
        catch (Exception e)
        {
            _full.Writer.TryComplete(e);
            throw;
        }
    }

    private void Write(Chunk c)
    {
        foreach ((long key, string id) in c.Users)
        {
            Check(raw.sqlite3_bind_int64(_user, 2, key));
            Check(raw.sqlite3_bind_text(_user, 3, id));
            Step(_user);
        }
        foreach ((long key, string id) in c.Items)
        {
            Check(raw.sqlite3_bind_int64(_item, 2, key));
            Check(raw.sqlite3_bind_text(_item, 3, id));
            Step(_item);
        }
        string? boundType = null;
        for (int i = 0; i < c.Count; i++)
        {
            Check(raw.sqlite3_bind_int64(_feedback, 2, c.User[i]));
            Check(raw.sqlite3_bind_int64(_feedback, 3, c.Item[i]));
            if (!ReferenceEquals(c.Type[i], boundType))
            {
                boundType = c.Type[i];
                Check(raw.sqlite3_bind_text(_feedback, 4, boundType));
            }
            Check(c.HasValue[i] ? raw.sqlite3_bind_double(_feedback, 5, c.Value[i]) : raw.sqlite3_bind_null(_feedback, 5));
            Check(c.HasTimestamp[i] ? raw.sqlite3_bind_int64(_feedback, 6, c.Timestamp[i]) : raw.sqlite3_bind_null(_feedback, 6));
            Step(_feedback);
        }
    }

    private sqlite3_stmt Prepare(string sql)
    {
        Check(raw.sqlite3_prepare_v2(_db, sql, out sqlite3_stmt statement));
        return statement;
    }

    private void Step(sqlite3_stmt statement)
    {
        int rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        }
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw new SqliteException(raw.sqlite3_errmsg(_db).utf8_to_string(), rc);
        }
    }

    private sealed class Chunk
    {
        public long[] User { get; } = new long[ChunkRows];
        public long[] Item { get; } = new long[ChunkRows];
        public string[] Type { get; } = new string[ChunkRows];
        public double[] Value { get; } = new double[ChunkRows];
        public bool[] HasValue { get; } = new bool[ChunkRows];
        public long[] Timestamp { get; } = new long[ChunkRows];
        public bool[] HasTimestamp { get; } = new bool[ChunkRows];
        public List<(long Key, string Id)> Users { get; } = [];
        public List<(long Key, string Id)> Items { get; } = [];
        public int Count { get; set; }

        public void Clear()
        {
            Count = 0;
            Users.Clear();
            Items.Clear();
        }
    }
}
