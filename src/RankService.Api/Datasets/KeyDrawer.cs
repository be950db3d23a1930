using Npgsql;

namespace RankService.Api.Datasets;

/// <summary>
/// Keys for new rows of a table with a bigint identity column "key", drawn from its sequence in growing blocks, in
/// increasing order. The draws run on a connection of their own: the write's connection is busy with its COPY, and
/// nextval is not transactional anyway (keys of a rolled-back write are gaps, as with a rolled-back INSERT).
/// </summary>
internal sealed class KeyDrawer(NpgsqlDataSource source, string table, CancellationToken cancellationToken) : IAsyncDisposable
{
    private const int FirstBlock = 256;
    private const int MaxBlock = 65536;
    private NpgsqlConnection? _connection;
    private long[] _block = [];
    private int _next;
    private int _size = FirstBlock;

    public async ValueTask<long> NextAsync()
    {
        if (_next == _block.Length)
        {
            _connection ??= await source.OpenConnectionAsync(cancellationToken);
#pragma warning disable CA2100 // the table name is the store's own (schema validated by its option); the size is a parameter
            await using var command = new NpgsqlCommand(
                $"SELECT nextval(pg_get_serial_sequence('{table}', 'key')) AS k FROM generate_series(1, @n) ORDER BY k", _connection);
#pragma warning restore CA2100
            command.Parameters.AddWithValue("n", _size);
            var block = new long[_size];
            int i = 0;
            await using (NpgsqlDataReader reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    block[i++] = reader.GetInt64(0);
                }
            }
            (_block, _next) = (block, 0);
            _size = Math.Min(_size * 4, MaxBlock);
        }
        return _block[_next++];
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}
