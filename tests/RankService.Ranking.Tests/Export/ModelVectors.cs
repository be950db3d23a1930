using RankService.Ranking.Checkpoints;
using static TorchSharp.torch;

namespace RankService.Tests.Common;

/// <summary>
/// The reference an export is compared with: one row at a time straight from the model's towers (a different call
/// than the exporter's batched one), in float32 as the model computes it.
/// </summary>
public static class ModelVectors
{
    public static float[] Row(LoadedCheckpoint checkpoint, EmbeddingSide side, int index)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        using var scope = NewDisposeScope();
        using var mode = no_grad();
        Tensor i = tensor(new long[] { index });
        Tensor v = side == EmbeddingSide.Users ? checkpoint.Model.UserVectors(i) : checkpoint.Model.ItemVectors(i);
        return v.reshape(-1).data<float>().ToArray();
    }

    public static float Bias(LoadedCheckpoint checkpoint, int item)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        using var scope = NewDisposeScope();
        using var mode = no_grad();
        return checkpoint.Model.ItemBiases(tensor(new long[] { item })).reshape(-1).data<float>()[0];
    }

    /// <summary>As below, for integer ids read from an ids-npy file.</summary>
    public static void AssertMatches(LoadedCheckpoint checkpoint, EmbeddingSide side, long[] ids, Func<int, float[]> row, float[]? bias) =>
        AssertMatches(checkpoint, side, ids.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), row, bias);

    /// <summary>Every row of an export equals the model's row for the same id, to float32 rounding.</summary>
    public static void AssertMatches(LoadedCheckpoint checkpoint, EmbeddingSide side, IReadOnlyList<string> ids, Func<int, float[]> row, float[]? bias)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(row);
        IReadOnlyList<string> expectedIds = side == EmbeddingSide.Users ? checkpoint.Ids.UserIds : checkpoint.Ids.ItemIds;
        Assert.Equal(expectedIds, ids);
        for (int i = 0; i < ids.Count; i++)
        {
            float[] expected = Row(checkpoint, side, i);
            float[] actual = row(i);
            Assert.Equal(expected.Length, actual.Length);
            for (int j = 0; j < expected.Length; j++)
            {
                Assert.True(Math.Abs(expected[j] - actual[j]) <= 1e-6f * Math.Max(1f, Math.Abs(expected[j])),
                    $"{side} row {i} (id {ids[i]}) column {j}: exported {actual[j]}, model {expected[j]}");
            }
            if (bias is not null)
            {
                Assert.Equal(Bias(checkpoint, i), bias[i], 6);
            }
        }
    }
}
