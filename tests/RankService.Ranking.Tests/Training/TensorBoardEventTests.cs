using System.Text;
using RankService.Ranking.Data;
using RankService.Ranking.Losses;
using RankService.Ranking.Training;

namespace RankService.Ranking.Tests.Training;

public class TensorBoardEventTests
{
    [Fact]
    public void Crc32C_matches_the_standard_check_value_and_the_tfrecord_mask()
    {
        // The CRC-32C check value of "123456789" (RFC 3720, B.4).
        Assert.Equal(0xE3069283u, TensorBoardEvents.Crc32C(Encoding.ASCII.GetBytes("123456789")));
        uint crc = TensorBoardEvents.Crc32C([]);
        Assert.Equal(0u, crc);
        Assert.Equal(0xa282ead8u, TensorBoardEvents.MaskedCrc32C([]));
    }

    [Fact]
    public void Event_files_decode_with_valid_crcs_and_hold_every_epochs_loss_and_validation_metrics_and_the_test_metrics()
    {
        RatingDataset data = SyntheticMovieLens.Generate(new SyntheticOptions { Users = 80, Items = 100, Seed = 9 });
        string run = TestData.TempFolder();
        DateTime before = DateTime.UtcNow;
        TrainingResult result = new Trainer(new TrainingOptions { Loss = LossKind.Hybrid, Epochs = 3, BatchSize = 16, EmbeddingDim = 8, NegativesPerList = 20, Patience = 0, Seed = 1 }).Train(data, run);

        string file = Assert.Single(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories));
        (string? version, List<ScalarEvent> scalars) = TensorBoardEvents.Read(File.ReadAllBytes(file));

        Assert.Equal("brain.Event:2", version);
        double from = new DateTimeOffset(before).ToUnixTimeMilliseconds() / 1000.0 - 1, to = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 1;
        Assert.All(scalars, s => Assert.InRange(s.WallTime, from, to));

        float Single(string tag, long step) => Assert.Single(scalars, s => s.Tag == tag && s.Step == step).Value;
        foreach (EpochReport epoch in result.History)
        {
            Assert.Equal((float)epoch.TrainLoss, Single("train/loss", epoch.Epoch));
            Assert.Equal((float)epoch.LossParts["listmle"], Single("train/loss_listmle", epoch.Epoch));
            Assert.Equal((float)epoch.LossParts["pairwise-logistic"], Single("train/loss_pairwise-logistic", epoch.Epoch));
            foreach ((string metric, double value) in epoch.Validation)
            {
                Assert.Equal((float)value, Single("val/" + metric, epoch.Epoch));
            }
            Assert.Equal((float)epoch.EpochSeconds, Single("train/epoch_seconds", epoch.Epoch));
            Assert.Equal(0.01f, Single("train/learning_rate", epoch.Epoch));
        }
        Assert.Equal([1L, 2L, 3L], scalars.Where(s => s.Tag == "train/loss").Select(s => s.Step));
        foreach ((string metric, double value) in result.Test)
        {
            Assert.Equal((float)value, Single("test/" + metric, result.BestEpoch));
        }
        Assert.Contains(scalars, s => s.Tag == "val/NDCG@10");
    }

    [Fact]
    public void A_flipped_byte_in_an_event_file_fails_the_crc_check()
    {
        string run = TestData.TempFolder();
        new Trainer(new TrainingOptions { Epochs = 1, BatchSize = 16, EmbeddingDim = 4, NegativesPerList = 10 })
            .Train(SyntheticMovieLens.Generate(new SyntheticOptions { Users = 40, Items = 60, Seed = 3 }), run);
        byte[] bytes = File.ReadAllBytes(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*", SearchOption.AllDirectories).Single());
        Assert.NotEmpty(TensorBoardEvents.ReadRecords(bytes));
        bytes[^6] ^= 0x40; // inside the last record's data
        Assert.Contains("CRC mismatch", Assert.Throws<InvalidDataException>(() => TensorBoardEvents.ReadRecords(bytes)).Message, StringComparison.Ordinal);
    }
}
