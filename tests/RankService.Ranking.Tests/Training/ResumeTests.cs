using RankService.Ranking.Checkpoints;
using RankService.Ranking.Data;
using RankService.Ranking.Splits;
using RankService.Ranking.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace RankService.Ranking.Tests.Training;

/// <summary>Crash safety of the trainer: resume after an interrupted run, corrupt state refused, NaN loss stops the run.</summary>
public class ResumeTests
{
    private static readonly RatingDataset Data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 120, Items = 200, Seed = 7 });

    private static TrainingOptions Options(int epochs) => SyntheticTraining.Options() with { Epochs = epochs, Seed = 5 };

    [Fact]
    public void A_run_stopped_after_k_epochs_resumes_after_epoch_k_and_finishes_all_epochs()
    {
        const int epochs = 6;
        string run = TestData.TempFolder();
        using var cancel = new CancellationTokenSource();
        // As a worker shutting down: stop within a batch and skip the final evaluation (the resumed run does it).
        TrainingResult crashed = new Trainer(Options(epochs)) { SkipEvaluationWhenCancelled = () => true }
            .Train(Data, run, new CancelAfter(3, cancel), cancel.Token);
        Assert.True(crashed.Cancelled);
        Assert.Equal(3, crashed.History.Count);
        Assert.Empty(crashed.Test);

        var log = new List<string>();
        var reported = new List<EpochReport>();
        TrainingResult resumed = new Trainer(Options(epochs)) { Log = log.Add }.Train(Data, run, new Collect(reported));

        Assert.False(resumed.Cancelled);
        Assert.Equal(3, resumed.ResumedAfterEpoch);
        Assert.Contains(log, l => l.Contains("Resuming after epoch 3 of 6", StringComparison.Ordinal));
        Assert.Equal([4, 5, 6], reported.Select(r => r.Epoch));
        Assert.Equal([1, 2, 3, 4, 5, 6], resumed.History.Select(h => h.Epoch));
        Assert.Equal(crashed.History.Select(h => h.TrainLoss), resumed.History.Take(3).Select(h => h.TrainLoss));
        Assert.Equal(resumed.History.MaxBy(h => h.Validation["NDCG@10"])!.Epoch, resumed.BestEpoch);
        using LoadedCheckpoint last = CheckpointStore.Load(resumed.LastCheckpoint);
        Assert.Equal(epochs, last.Manifest.Epoch);
    }

    [Fact]
    public void Resuming_from_the_state_saved_after_epoch_k_repeats_the_uninterrupted_runs_later_epochs()
    {
        const int epochs = 5;
        string run = TestData.TempFolder();
        string copy = TestData.TempFolder();
        // Snapshot the run's checkpoints as they stood after epoch 2: at epoch 3's report (made before its state is saved).
        var snapshot = new Snapshot(3, Path.Combine(run, "checkpoints"), Path.Combine(copy, "checkpoints"));
        TrainingResult uninterrupted = new Trainer(Options(epochs)).Train(Data, run, snapshot);

        TrainingResult resumed = new Trainer(Options(epochs)).Train(Data, copy);

        Assert.Equal(2, resumed.ResumedAfterEpoch);
        // Weights, Adam moments and step count, and per-epoch seeds restored: the same later epochs. Not bit-equal
        // only because another test may change torch's thread count (summation order) between the two runs.
        for (int i = 0; i < epochs; i++)
        {
            double expected = uninterrupted.History[i].TrainLoss;
            Assert.True(Math.Abs(resumed.History[i].TrainLoss - expected) <= 1e-5 * Math.Abs(expected),
                $"epoch {i + 1}: {resumed.History[i].TrainLoss} vs {expected}");
        }
        Assert.Equal(uninterrupted.BestEpoch, resumed.BestEpoch);
    }

    [Fact]
    public void A_finished_run_run_again_trains_no_more_epochs()
    {
        string run = TestData.TempFolder();
        TrainingResult first = new Trainer(Options(2)).Train(Data, run);
        var reported = new List<EpochReport>();
        TrainingResult again = new Trainer(Options(2)).Train(Data, run, new Collect(reported));
        Assert.Empty(reported);
        Assert.Equal(2, again.ResumedAfterEpoch);
        Assert.Equal(first.History.Select(h => h.TrainLoss), again.History.Select(h => h.TrainLoss));
        Assert.Equal(first.Test["NDCG@10"], again.Test["NDCG@10"]);
    }

    [Theory]
    [InlineData("truncate-state")]
    [InlineData("flip-state-byte")]
    [InlineData("truncate-json")]
    public void A_corrupt_resume_state_is_refused_with_a_clear_message_and_the_run_starts_from_epoch_1(string damage)
    {
        string run = TestData.TempFolder();
        using var cancel = new CancellationTokenSource();
        new Trainer(Options(4)).Train(Data, run, new CancelAfter(2, cancel), cancel.Token);
        string checkpoints = Path.Combine(run, "checkpoints");
        string state = Assert.Single(Directory.GetFiles(checkpoints, "resume-*.bin"));
        switch (damage)
        {
            case "truncate-state":
                File.WriteAllBytes(state, File.ReadAllBytes(state)[..100]);
                break;
            case "flip-state-byte":
                byte[] bytes = File.ReadAllBytes(state);
                bytes[bytes.Length / 2] ^= 0xFF;
                File.WriteAllBytes(state, bytes);
                break;
            default:
                string json = ResumeState.Path(checkpoints);
                File.WriteAllBytes(json, File.ReadAllBytes(json)[..40]);
                break;
        }

        var log = new List<string>();
        TrainingResult result = new Trainer(Options(4)) { Log = log.Add }.Train(Data, run);
        string line = Assert.Single(log);
        Assert.StartsWith("Not resuming: ", line, StringComparison.Ordinal);
        Assert.Contains(damage == "truncate-json" ? "not valid JSON" : "corrupt or truncated", line, StringComparison.Ordinal);
        Assert.Equal(0, result.ResumedAfterEpoch);
        Assert.Equal([1, 2, 3, 4], result.History.Select(h => h.Epoch));
    }

    [Theory]
    [InlineData(SplitProtocol.RecBole, false)]
    [InlineData(SplitProtocol.Temporal, true)]
    public void A_format_1_state_resumes_only_when_its_split_did_not_change(SplitProtocol protocol, bool resumes)
    {
        string run = TestData.TempFolder();
        TrainingOptions options = Options(4) with { Protocol = protocol };
        using var cancel = new CancellationTokenSource();
        new Trainer(options).Train(Data, run, new CancelAfter(2, cancel), cancel.Token);
        string json = ResumeState.Path(Path.Combine(run, "checkpoints"));
        string text = File.ReadAllText(json);
        var format = new System.Text.RegularExpressions.Regex($"\"format\":\\s*{ResumeState.CurrentFormat},");
        Assert.Matches(format, text);
        File.WriteAllText(json, format.Replace(text, "\"format\": 1,", 1));

        var log = new List<string>();
        TrainingResult result = new Trainer(options) { Log = log.Add }.Train(Data, run);

        if (resumes)
        {
            Assert.Equal(2, result.ResumedAfterEpoch);
            Assert.DoesNotContain(log, l => l.StartsWith("Not resuming", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(0, result.ResumedAfterEpoch);
            Assert.Contains(log, l => l.Contains("recbole split of an earlier version", StringComparison.Ordinal));
            Assert.Equal([1, 2, 3, 4], result.History.Select(h => h.Epoch));
        }
    }

    [Fact]
    public void A_nan_loss_stops_the_run_naming_epoch_and_batch_and_the_best_checkpoint_stays_valid()
    {
        string run = TestData.TempFolder();
        // Corrupt the item embeddings at epoch 2, batch 3, as a diverging update would.
        var trainer = new Trainer(Options(5))
        {
            BeforeBatch = (epoch, batch, model) =>
            {
                if (epoch == 2 && batch == 3)
                {
                    using var noGrad = no_grad();
                    using var nan = float.NaN.ToScalar();
                    foreach (var p in model.parameters())
                    {
                        p.fill_(nan);
                    }
                }
            },
        };
        var reported = new List<EpochReport>();
        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => trainer.Train(Data, run, new Collect(reported)));

        Assert.Contains("loss became NaN at epoch 2, batch 3", error.Message, StringComparison.Ordinal);
        Assert.Equal([1], reported.Select(r => r.Epoch));
        string checkpoints = Path.Combine(run, "checkpoints");
        using LoadedCheckpoint best = CheckpointStore.Load(CheckpointStore.ManifestPath(checkpoints, "best"));
        Assert.Equal(1, best.Manifest.Epoch);
        float[] weights = best.Model.parameters().First().data<float>().ToArray();
        Assert.All(weights, w => Assert.True(float.IsFinite(w)));
    }

    private sealed class CancelAfter(int epochs, CancellationTokenSource cancel) : IProgress<EpochReport>
    {
        public void Report(EpochReport value)
        {
            if (value.Epoch >= epochs)
            {
                cancel.Cancel();
            }
        }
    }

    private sealed class Snapshot(int epoch, string from, string to) : IProgress<EpochReport>
    {
        public void Report(EpochReport value)
        {
            if (value.Epoch == epoch)
            {
                Directory.CreateDirectory(to);
                foreach (string file in Directory.GetFiles(from))
                {
                    File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
                }
            }
        }
    }

    private sealed class Collect(List<EpochReport> reports) : IProgress<EpochReport>
    {
        public void Report(EpochReport value) => reports.Add(value);
    }
}
