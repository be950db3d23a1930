using System.Buffers.Binary;
using System.Text;

namespace RankService.Ranking.Tests.Training;

/// <summary>One scalar summary value of a TensorBoard event.</summary>
public sealed record ScalarEvent(double WallTime, long Step, string Tag, float Value);

/// <summary>
/// Reads TensorBoard event files from their specifications, without TensorFlow: TFRecord framing
/// (uint64 length, masked CRC32C of the length, data, masked CRC32C of the data, both checked), and inside each
/// record a protobuf <c>Event</c> { wall_time = 1 double, step = 2 int64, file_version = 3 string,
/// summary = 5 Summary { value = 1 repeated Value { tag = 1 string, simple_value = 2 float } } }.
/// </summary>
public static class TensorBoardEvents
{
    /// <summary>The payload of every record, after checking both CRCs; throws on a torn or corrupt record.</summary>
    public static List<byte[]> ReadRecords(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var records = new List<byte[]>();
        int at = 0;
        while (at < file.Length)
        {
            if (file.Length - at < 12)
            {
                throw new InvalidDataException($"torn record header at byte {at}");
            }
            ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file.AsSpan(at));
            uint lengthCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(at + 8));
            if (MaskedCrc32C(file.AsSpan(at, 8)) != lengthCrc)
            {
                throw new InvalidDataException($"length CRC mismatch at byte {at}");
            }
            int start = at + 12;
            if (length > (ulong)(file.Length - start - 4))
            {
                throw new InvalidDataException($"record at byte {at} runs past the end of the file");
            }
            byte[] data = file[start..(start + (int)length)];
            uint dataCrc = BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(start + (int)length));
            if (MaskedCrc32C(data) != dataCrc)
            {
                throw new InvalidDataException($"data CRC mismatch in the record at byte {at}");
            }
            records.Add(data);
            at = start + (int)length + 4;
        }
        return records;
    }

    /// <summary>Every scalar value in the events of a file; also returns the file_version of the first event.</summary>
    public static (string? FileVersion, List<ScalarEvent> Scalars) Read(byte[] file)
    {
        string? version = null;
        var scalars = new List<ScalarEvent>();
        foreach (byte[] record in ReadRecords(file))
        {
            double wallTime = 0;
            long step = 0;
            var values = new List<(string Tag, float Value)>();
            var e = new ProtoReader(record);
            while (e.Next(out int field, out int wire))
            {
                switch (field, wire)
                {
                    case (1, ProtoReader.Fixed64): wallTime = BitConverter.Int64BitsToDouble((long)e.ReadFixed64()); break;
                    case (2, ProtoReader.Varint): step = (long)e.ReadVarint(); break;
                    case (3, ProtoReader.LengthDelimited): version = Encoding.UTF8.GetString(e.ReadBytes()); break;
                    case (5, ProtoReader.LengthDelimited): values.AddRange(ReadSummary(e.ReadBytes())); break;
                    default: e.Skip(wire); break;
                }
            }
            scalars.AddRange(values.Select(v => new ScalarEvent(wallTime, step, v.Tag, v.Value)));
        }
        return (version, scalars);
    }

    private static List<(string, float)> ReadSummary(byte[] summary)
    {
        var values = new List<(string, float)>();
        var s = new ProtoReader(summary);
        while (s.Next(out int field, out int wire))
        {
            if (field != 1 || wire != ProtoReader.LengthDelimited)
            {
                s.Skip(wire);
                continue;
            }
            var v = new ProtoReader(s.ReadBytes());
            string? tag = null;
            float? value = null;
            while (v.Next(out int vf, out int vw))
            {
                switch (vf, vw)
                {
                    case (1, ProtoReader.LengthDelimited): tag = Encoding.UTF8.GetString(v.ReadBytes()); break;
                    case (2, ProtoReader.Fixed32): value = BitConverter.Int32BitsToSingle((int)v.ReadFixed32()); break;
                    default: v.Skip(vw); break;
                }
            }
            if (tag is not null && value is not null)
            {
                values.Add((tag, value.Value));
            }
        }
        return values;
    }

    /// <summary>TFRecord's mask: rotate right by 15 bits, add 0xa282ead8.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = Crc32C(data);
        return unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit from the definition.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
            }
        }
        return ~crc;
    }
}

/// <summary>The protobuf wire format, just enough to walk messages: varint, 64-bit, length-delimited, 32-bit.</summary>
public sealed class ProtoReader(byte[] buffer)
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;
    private int _at;

    public bool Next(out int field, out int wire)
    {
        if (_at >= buffer.Length)
        {
            field = wire = 0;
            return false;
        }
        ulong key = ReadVarint();
        field = (int)(key >> 3);
        wire = (int)(key & 7);
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = buffer[_at++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
        throw new InvalidDataException("varint longer than 10 bytes");
    }

    public ulong ReadFixed64()
    {
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(_at));
        _at += 8;
        return v;
    }

    public uint ReadFixed32()
    {
        uint v = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(_at));
        _at += 4;
        return v;
    }

    public byte[] ReadBytes()
    {
        int length = checked((int)ReadVarint());
        byte[] bytes = buffer[_at..(_at + length)];
        _at += length;
        return bytes;
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: _at += 8; break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: _at += 4; break;
            default: throw new InvalidDataException($"unsupported wire type {wire}");
        }
    }
}
