using System.Buffers.Binary;
using System.Security.Cryptography;

namespace RankService.Ranking.Data;

/// <summary>
/// SHA-256 over parsed ratings in file order: per rating the raw user id, raw item id (int64), value (float32 bits)
/// and timestamp (int64), little-endian. Hashing parsed values rather than bytes makes the fingerprint independent
/// of line endings, number spelling ("4" vs "4.0") and format, so a written-then-loaded dataset keeps it.
/// Data sets whose ids are not all integers hash each id as its UTF-8 length (int32) and bytes instead; integer
/// ids keep the int64 records, so MovieLens data has the fingerprint it had before ids became strings.
/// </summary>
public sealed class RatingFingerprint : IDisposable
{
    private const int RecordSize = 28;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _buffer = new byte[RecordSize * 4096];
    private int _used;

    public void Add(long rawUser, long rawItem, float value, long timestamp)
    {
        if (_used + RecordSize > _buffer.Length)
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

    /// <summary>One rating of a data set whose ids are not all integers.</summary>
    public void Add(string user, string item, float value, long timestamp)
    {
        AddText(user);
        AddText(item);
        if (_used + 12 > _buffer.Length)
        {
            Flush();
        }
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.AsSpan(_used), value);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_used + 4), timestamp);
        _used += 12;
    }

    public string Finish()
    {
        Flush();
        return Convert.ToHexStringLower(_hash.GetHashAndReset());
    }

    /// <summary>The fingerprint of ratings in the given order: int64 records when both maps are all integers.</summary>
    public static string Of(IReadOnlyList<Rating> ratings, IdMap users, IdMap items)
    {
        ArgumentNullException.ThrowIfNull(ratings);
        ArgumentNullException.ThrowIfNull(users);
        ArgumentNullException.ThrowIfNull(items);
        using var fingerprint = new RatingFingerprint();
        if (users.Integers is { } userIds && items.Integers is { } itemIds)
        {
            foreach (Rating r in ratings)
            {
                fingerprint.Add(userIds[r.User], itemIds[r.Item], r.Value, r.Timestamp);
            }
        }
        else
        {
            foreach (Rating r in ratings)
            {
                fingerprint.Add(users.ToId(r.User), items.ToId(r.Item), r.Value, r.Timestamp);
            }
        }
        return fingerprint.Finish();
    }

    public void Dispose() => _hash.Dispose();

    private void AddText(string text)
    {
        int length = System.Text.Encoding.UTF8.GetByteCount(text);
        if (_used + 4 + length > _buffer.Length)
        {
            Flush();
        }
        if (4 + length > _buffer.Length)
        {
            Span<byte> prefix = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(prefix, length);
            _hash.AppendData(prefix);
            _hash.AppendData(System.Text.Encoding.UTF8.GetBytes(text));
            return;
        }
        BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_used), length);
        System.Text.Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_used + 4));
        _used += 4 + length;
    }

    private void Flush()
    {
        _hash.AppendData(_buffer, 0, _used);
        _used = 0;
    }
}
