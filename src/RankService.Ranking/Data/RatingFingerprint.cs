using System.Buffers.Binary;
using System.Security.Cryptography;

namespace RankService.Ranking.Data;

/// <summary>
/// SHA-256 over parsed ratings in file order: per rating the raw user id, raw item id (int64), value (float32 bits)
/// and timestamp (int64), little-endian. Hashing parsed values rather than bytes makes the fingerprint independent
/// of line endings, number spelling ("4" vs "4.0") and format, so a written-then-loaded dataset keeps it.
/// </summary>
internal sealed class RatingFingerprint : IDisposable
{
    private const int RecordSize = 28;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[RecordSize * 4096];
    private int _used;

    public void Add(long rawUser, long rawItem, float value, long timestamp)
    {
        if (_used == _buffer.Length)
        {
            Flush();
        }
        Span<byte> record = _buffer.AsSpan(_used, RecordSize);
        BinaryPrimitives.WriteInt64LittleEndian(record, rawUser);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], rawItem);
        BinaryPrimitives.WriteSingleLittleEndian(record[16..], value);
        BinaryPrimitives.WriteInt64LittleEndian(record[20..], timestamp);
        _used += RecordSize;
    }

    public string Finish()
    {
        Flush();
        return Convert.ToHexStringLower(_hash.GetHashAndReset());
    }

    public static string Of(IReadOnlyList<Rating> ratings, IdMap users, IdMap items)
    {
        using var fingerprint = new RatingFingerprint();
        foreach (Rating r in ratings)
        {
            fingerprint.Add(users.ToRaw(r.User), items.ToRaw(r.Item), r.Value, r.Timestamp);
        }
        return fingerprint.Finish();
    }

    public void Dispose() => _hash.Dispose();

    private void Flush()
    {
        _hash.AppendData(_buffer, 0, _used);
        _used = 0;
    }
}
