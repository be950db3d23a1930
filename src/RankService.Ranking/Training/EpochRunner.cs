using RankService.Ranking.Losses;
using RankService.Ranking.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Training;

/// <summary>The train loss of one epoch (mean over batches), its named parts, and whether cancellation cut it short.</summary>
internal readonly record struct EpochOutcome(double Loss, IReadOnlyDictionary<string, double> Parts, bool Interrupted);

/// <summary>
/// One pass over the training lists: per batch, one dispose scope holding the batch tensors, the loss, backward,
/// gradient-norm clipping and the Adam step. Each epoch draws from its own streams seeded from (seed, epoch), so a
/// resumed run draws what the uninterrupted run would have.
/// </summary>
internal sealed class EpochRunner(
    TwoTowerModel model,
    AdamOptimizer optimizer,
    IRankingLoss loss,
    LossInputs lossInputs,
    ListBatcher batcher,
    Device device,
    TrainingOptions options,
    TrainingProfile? profile,
    Action<int, int, TwoTowerModel>? beforeBatch)
{
    public EpochOutcome Run(int epoch, CancellationToken cancellationToken)
    {
        int epochSeed = Trainer.EpochSeed(options.Seed, epoch);
        var rng = new Random(epochSeed);
        using var generator = new Generator((ulong)epochSeed, device);
        model.UseDropoutGenerator(generator);
        model.train();
        double total = 0;
        var parts = new Dictionary<string, double>();
        int batches = 0;
        int batchIndex = 0;
        foreach (ListBatch batch in batcher.Epoch(rng))
        {
            profile?.Lap("prep");
            if (cancellationToken.IsCancellationRequested)
            {
                return new EpochOutcome(0, parts, true);
            }
            batchIndex++;
            beforeBatch?.Invoke(epoch, batchIndex, model);
            using var scope = NewDisposeScope();
            (double value, IReadOnlyList<(string Name, double Value)> batchParts) = Step(batch, generator, epoch, batchIndex);
            total += value;
            foreach ((string name, double part) in batchParts)
            {
                parts[name] = parts.GetValueOrDefault(name) + part;
            }
            batches++;
            profile?.EndBatch(batch.Mask);
        }
        foreach (string name in parts.Keys.ToList())
        {
            parts[name] /= Math.Max(1, batches);
        }
        return new EpochOutcome(total / Math.Max(1, batches), parts, false);
    }

    /// <summary>One optimiser step on <paramref name="batch"/>; runs inside the caller's dispose scope.</summary>
    private (double Loss, IReadOnlyList<(string Name, double Value)> Parts) Step(ListBatch batch, Generator generator, int epoch, int batchIndex)
    {
        long rows = batch.Users.Length;
        Tensor users = tensor(batch.Users.Select(u => (long)u).ToArray(), dtype: ScalarType.Int64, device: device);
        Tensor items = tensor(batch.Items, new[] { rows, batch.Width }, dtype: ScalarType.Int64, device: device);
        Tensor labels = tensor(batch.Labels, new[] { rows, batch.Width }, device: device);
        Tensor mask = tensor(batch.Mask, new[] { rows, batch.Width }, device: device);
        profile?.Lap("tensors");

        optimizer.ZeroGrad();
        profile?.Lap("zero_grad");
        LossOutput output = loss.Compute(lossInputs.Build(model, users, items, labels, mask), generator);
        double value = output.Total.item<float>();
        profile?.Lap("forward");
        if (!double.IsFinite(value))
        {
            throw new InvalidOperationException($"The {loss.Name} loss became {value} at epoch {epoch}, batch {batchIndex}: lower the learning rate or raise the weight decay.");
        }
        output.Total.backward();
        profile?.Lap("backward");
        if (options.GradientClipNorm > 0 && model.SparseGradients)
        {
            optimizer.ClipGradNorm(options.GradientClipNorm);
        }
        else if (options.GradientClipNorm > 0)
        {
            nn.utils.clip_grad_norm_(model.parameters(), options.GradientClipNorm);
        }
        profile?.Lap("clip");
        optimizer.Step();
        profile?.Lap("step");
        return (value, output.Parts.Select(p => (p.Key, (double)p.Value.item<float>())).ToList());
    }
}
