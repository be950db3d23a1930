using RankService.Ranking.Losses;
using RankService.Ranking.Model;
using RankService.Ranking.Splits;
using static TorchSharp.torch;

namespace RankService.Ranking.Training;

/// <summary>
/// Builds each batch's <see cref="LossBatch"/> from the model by what the loss <see cref="IRankingLoss.Needs"/>, so
/// the trainer has one code path for every loss: list scores always; a catalogue scorer (user vectors [lists, d]
/// against item vectors [items, d], the item side computed once per call) and train item counts for
/// <see cref="LossNeeds.Catalogue"/>; user and item tower outputs for <see cref="LossNeeds.Embeddings"/>.
/// </summary>
public sealed class LossInputs : IDisposable
{
    private readonly LossNeeds _needs;
    private readonly Tensor _allItems;
    private readonly Tensor _itemCounts;

    public LossInputs(IRankingLoss loss, UserSplit split, Device device)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(split);
        _needs = loss.Needs;
        var counts = new float[split.ItemCount];
        foreach (int[] items in split.TrainItems)
        {
            foreach (int item in items)
            {
                counts[item]++;
            }
        }
        _itemCounts = tensor(counts, device: device);
        _allItems = tensor(Enumerable.Range(0, split.ItemCount).Select(i => (long)i).ToArray(), device: device);
    }

    /// <summary>Scores the lists and adds what the loss needs. Call inside the batch's dispose scope.</summary>
    public LossBatch Build(TwoTowerModel model, Tensor users, Tensor items, Tensor labels, Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(model);
        var batch = new LossBatch(model.forward(users, items), labels, mask) { Items = items };
        if (_needs.HasFlag(LossNeeds.Catalogue))
        {
            Tensor userVectors = model.UserVectors(users);
            batch = batch with
            {
                ScoreItems = candidates =>
                {
                    Tensor c = candidates ?? _allItems;
                    return model.Combine(userVectors, model.ItemVectors(c), model.ItemBiases(c));
                },
                ItemCounts = _itemCounts,
            };
        }
        if (_needs.HasFlag(LossNeeds.Embeddings))
        {
            batch = batch with { UserVectors = model.UserVectors(users), ItemVectors = model.ItemVectors(items) };
        }
        return batch;
    }

    public void Dispose()
    {
        _allItems.Dispose();
        _itemCounts.Dispose();
    }
}
