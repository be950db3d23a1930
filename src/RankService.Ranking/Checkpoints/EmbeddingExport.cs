using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Checkpoints;

/// <summary>Which tower's vectors to export.</summary>
public enum EmbeddingSide
{
    Users,
    Items,
}

/// <summary>
/// One side's vectors with their ids, row i belonging to <see cref="Ids"/>[i]. <see cref="Vectors"/> is row-major
/// [rows, dim] float32: the model's <c>UserVectors</c>/<c>ItemVectors</c> (tower outputs). With the dot head a score is
/// user . item + <see cref="Bias"/>[item]; with concat-mlp these are the first layer's halves, not dot-comparable.
/// </summary>
public sealed record EmbeddingTable(EmbeddingSide Side, IReadOnlyList<string> Ids, float[] Vectors, int Dim, float[]? Bias)
{
    public int Rows => Ids.Count;

    /// <summary>The ids as int64 when every one is an integer (MovieLens, synthetic), the only case ids-npy can hold; else null.</summary>
    public IReadOnlyList<long>? IntegerIds { get; } = EmbeddingExport.AsIntegers(Ids);

    public ReadOnlySpan<float> Row(int i) => Vectors.AsSpan(i * Dim, Dim);
}

/// <summary>
/// Exports a checkpoint's vectors as CSV (<c>id,v0..v{d-1}[,bias]</c>, ids as text, quoted where needed) or NumPy
/// <c>.npy</c> (format 1.0, little-endian, C order): vectors <c>&lt;f4</c> shape (n, d), ids <c>&lt;i8</c> shape (n,)
/// when they are all integers (else a JSON array of strings, <see cref="WriteIdsJson"/>), item bias <c>&lt;f4</c>
/// shape (n,), each its own file with rows in the same order.
/// </summary>
public static class EmbeddingExport
{
    /// <summary>Computes every row of one side on the CPU, in dense-index order.</summary>
    public static EmbeddingTable Extract(LoadedCheckpoint checkpoint, EmbeddingSide side)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        IReadOnlyList<string> ids = side == EmbeddingSide.Users ? checkpoint.Ids.UserIds : checkpoint.Ids.ItemIds;
        using var scope = NewDisposeScope();
        using var inference = inference_mode();
        Device device = checkpoint.Model.parameters().First().device;
        using Scalar count = ids.Count.ToScalar();
        Tensor index = arange(Losses.Scalars.IntZero, count, Losses.Scalars.IntOne, dtype: ScalarType.Int64, device: device);
        Tensor vectors = (side == EmbeddingSide.Users ? checkpoint.Model.UserVectors(index) : checkpoint.Model.ItemVectors(index))
            .to(ScalarType.Float32).cpu().contiguous();
        int dim = (int)vectors.shape[1];
        var data = new float[ids.Count * dim];
        vectors.data<float>().CopyTo(data);
        float[]? bias = null;
        if (side == EmbeddingSide.Items && checkpoint.Manifest.Model.ItemBias)
        {
            bias = new float[ids.Count];
            checkpoint.Model.ItemBiases(index).to(ScalarType.Float32).cpu().contiguous().data<float>().CopyTo(bias);
        }
        return new EmbeddingTable(side, ids, data, dim, bias);
    }

    /// <summary>Header <c>id,v0,...,v{d-1}</c> plus <c>bias</c> for items with one; floats round-trip exactly.</summary>
    public static void WriteCsv(Stream stream, EmbeddingTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        var line = new StringBuilder();
        line.Append("id");
        for (int j = 0; j < table.Dim; j++)
        {
            line.Append(",v").Append(j.ToString(CultureInfo.InvariantCulture));
        }
        if (table.Bias is not null)
        {
            line.Append(",bias");
        }
        writer.WriteLine(line);
        for (int i = 0; i < table.Rows; i++)
        {
            line.Clear().Append(Data.Csv.Quote(table.Ids[i]));
            foreach (float v in table.Row(i))
            {
                line.Append(',').Append(v.ToString("R", CultureInfo.InvariantCulture));
            }
            if (table.Bias is not null)
            {
                line.Append(',').Append(table.Bias[i].ToString("R", CultureInfo.InvariantCulture));
            }
            writer.WriteLine(line);
        }
    }

    /// <summary>The vectors as a 2-D <c>&lt;f4</c> array of shape (n, d).</summary>
    public static void WriteNpy(Stream stream, EmbeddingTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        WriteNpyFloats(stream, table.Vectors, [table.Rows, table.Dim]);
    }

    /// <summary>The raw ids as a 1-D <c>&lt;i8</c> array, same row order as the vectors.</summary>
    public static void WriteIdsNpy(Stream stream, IReadOnlyList<long> ids)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(ids);
        WriteNpyHeader(stream, "<i8", [ids.Count]);
        var buffer = new byte[8 * Math.Min(ids.Count, 8192)];
        for (int start = 0; start < ids.Count; start += 8192)
        {
            int count = Math.Min(8192, ids.Count - start);
            for (int i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(8 * i), ids[start + i]);
            }
            stream.Write(buffer, 0, 8 * count);
        }
    }

    /// <summary>The ids as a JSON array of strings (UTF-8), same row order as the vectors: the form for any ids.</summary>
    public static void WriteIdsJson(Stream stream, IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(ids);
        System.Text.Json.JsonSerializer.Serialize(stream, ids);
    }

    /// <summary>The ids as int64 when every one is a canonical integer (<see cref="Data.ExternalId.IsCanonicalInteger"/>); else null.</summary>
    public static long[]? AsIntegers(IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var values = new long[ids.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (!Data.ExternalId.IsCanonicalInteger(ids[i], out values[i]))
            {
                return null;
            }
        }
        return values;
    }

    /// <summary>A float32 array of the given shape (C order).</summary>
    public static void WriteNpyFloats(Stream stream, ReadOnlySpan<float> values, IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(shape);
        WriteNpyHeader(stream, "<f4", shape);
        var buffer = new byte[4 * Math.Min(values.Length, 16384)];
        for (int start = 0; start < values.Length; start += 16384)
        {
            int count = Math.Min(16384, values.Length - start);
            for (int i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i), values[start + i]);
            }
            stream.Write(buffer, 0, 4 * count);
        }
    }

    /// <summary>
    /// NPY 1.0: <c>\x93NUMPY</c>, version 1 0, a little-endian uint16 header length, then the header dict padded with
    /// spaces and ended by a newline so magic + length + header is a multiple of 64 bytes.
    /// </summary>
    public static void WriteNpyHeader(Stream stream, string descr, IReadOnlyList<int> shape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(shape);
        string dims = shape.Count == 1
            ? $"{shape[0].ToString(CultureInfo.InvariantCulture)},"
            : string.Join(", ", shape.Select(s => s.ToString(CultureInfo.InvariantCulture)));
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({dims}), }}";
        const int Preamble = 10; // magic (6) + version (2) + header length (2)
        int total = Preamble + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        Span<byte> preamble = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0, 0];
        BinaryPrimitives.WriteUInt16LittleEndian(preamble[8..], (ushort)header.Length);
        stream.Write(preamble);
        stream.Write(Encoding.ASCII.GetBytes(header));
    }
}
