using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RankService.Tests.Common;

/// <summary>
/// A strict reader of NumPy .npy format 1.0, written from the format's specification (also compiled into the API
/// tests): magic <c>\x93NUMPY</c>, version 1.0, uint16 little-endian header length, an ASCII dict padded with spaces
/// and ended by a newline so that the data starts at a multiple of 64 bytes, then the raw C-order data.
/// </summary>
public sealed partial record NpyArray(string Descr, int[] Shape, byte[] Data)
{
    public static NpyArray Read(byte[] file)
    {
        ArgumentNullException.ThrowIfNull(file);
        byte[] magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
        Assert.True(file.AsSpan(0, 6).SequenceEqual(magic), "the .npy magic string is missing");
        Assert.Equal(1, file[6]);
        Assert.Equal(0, file[7]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8));
        int dataStart = 10 + headerLength;
        Assert.Equal(0, dataStart % 64);
        string header = Encoding.ASCII.GetString(file, 10, headerLength);
        Assert.EndsWith("\n", header, StringComparison.Ordinal);
        Match m = HeaderPattern().Match(header.TrimEnd());
        Assert.True(m.Success, $"unexpected .npy header: {header}");
        Assert.Equal("False", m.Groups["fortran"].Value);
        int[] shape = m.Groups["shape"].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new NpyArray(m.Groups["descr"].Value, shape, file[dataStart..]);
    }

    public float[] Floats()
    {
        Assert.Equal("<f4", Descr);
        Assert.Equal(Shape.Aggregate(4L, (a, b) => a * b), Data.LongLength);
        var values = new float[Data.Length / 4];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(Data.AsSpan(4 * i));
        }
        return values;
    }

    public long[] Longs()
    {
        Assert.Equal("<i8", Descr);
        Assert.Equal(Shape.Aggregate(8L, (a, b) => a * b), Data.LongLength);
        var values = new long[Data.Length / 8];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt64LittleEndian(Data.AsSpan(8 * i));
        }
        return values;
    }

    [GeneratedRegex(@"^\{'descr': '(?<descr>[<>|][a-z]\d+)', 'fortran_order': (?<fortran>True|False), 'shape': \((?<shape>[0-9, ]*)\), \}$")]
    private static partial Regex HeaderPattern();
}

/// <summary>Parses an embeddings CSV (<c>id,v0..v{d-1}[,bias]</c>) back into ids, rows and biases.</summary>
public static class EmbeddingCsv
{
    public static (string[] Header, string[] Ids, float[][] Rows, float[]? Bias) Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] header = lines[0].Split(',');
        Assert.Equal("id", header[0]);
        bool hasBias = header[^1] == "bias";
        int dim = header.Length - 1 - (hasBias ? 1 : 0);
        for (int j = 0; j < dim; j++)
        {
            Assert.Equal($"v{j}", header[1 + j]);
        }
        var ids = new string[lines.Length - 1];
        var rows = new float[lines.Length - 1][];
        float[]? bias = hasBias ? new float[lines.Length - 1] : null;
        for (int i = 1; i < lines.Length; i++)
        {
            string[] cells = lines[i].Split(',');
            Assert.Equal(header.Length, cells.Length);
            ids[i - 1] = cells[0];
            rows[i - 1] = cells.Skip(1).Take(dim).Select(c => float.Parse(c, CultureInfo.InvariantCulture)).ToArray();
            if (bias is not null)
            {
                bias[i - 1] = float.Parse(cells[^1], CultureInfo.InvariantCulture);
            }
        }
        return (header, ids, rows, bias);
    }
}
