using RankService.Ranking.Metrics;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Model;

/// <summary>
/// Scores the full catalogue with a model under inference mode. The item side (tower outputs and biases) is
/// computed once at construction; each call computes the users' side and one matrix product.
/// Puts the model in eval mode. Dispose to free the cached item side.
/// </summary>
public sealed class ModelScorer : IItemScorer, IDisposable
{
    private readonly TwoTowerModel _model;
    private readonly Tensor _items;
    private readonly Tensor _bias;

    public ModelScorer(TwoTowerModel model)
    {
        _model = model;
        model.eval(); // no dropout while scoring; the trainer switches back with train()
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        Device device = model.parameters().First().device;
        using Scalar itemCount = model.ItemCount.ToScalar();
        Tensor all = arange(Losses.Scalars.IntZero, itemCount, Losses.Scalars.IntOne, dtype: ScalarType.Int64, device: device);
        _items = model.ItemVectors(all).MoveToOuterDisposeScope();
        _bias = model.ItemBiases(all).MoveToOuterDisposeScope();
    }

    public int ItemCount => _model.ItemCount;

    public void Score(ReadOnlySpan<int> users, Span<float> scores)
    {
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var index = new long[users.Length];
        for (int i = 0; i < index.Length; i++)
        {
            index[i] = users[i];
        }
        Tensor userIndex = tensor(index, dtype: ScalarType.Int64, device: _items.device);
        Tensor result = _model.Combine(_model.UserVectors(userIndex), _items, _bias.unsqueeze(0)).to(CPU).contiguous();
        // One copy straight into the caller's buffer (no intermediate byte array on the ranking path).
        result.data<float>().CopyTo(scores);
    }

    public void Dispose()
    {
        _items.Dispose();
        _bias.Dispose();
    }
}
