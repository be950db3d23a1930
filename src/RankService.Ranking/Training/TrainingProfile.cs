using System.Diagnostics;

namespace RankService.Ranking.Training;

/// <summary>
/// Where a <see cref="Trainer"/> run spends its time, phase by phase (seconds, summed over the run), and a batch
/// counter, for benchmarks and progress lines. Optional: a trainer without one measures nothing. Written by the
/// training thread; another thread may read it for progress (values may be a batch behind).
/// </summary>
public sealed class TrainingProfile
{
    /// <summary>Phases in the order a run meets them.</summary>
    public static readonly IReadOnlyList<string> Phases =
    [
        "setup", "prep", "tensors", "zero_grad", "forward", "backward", "clip", "step", "validation", "checkpoint", "resume", "test", "baseline",
    ];

    private readonly double[] _seconds = new double[Phases.Count];
    private long _mark = Stopwatch.GetTimestamp();

    /// <summary>Batches finished in the current epoch, and in the whole run.</summary>
    public int EpochBatches { get; private set; }

    public long TotalBatches { get; private set; }

    /// <summary>List positions scored (real items) and padded slots (all positions) in the current epoch.</summary>
    public long EpochScored { get; private set; }

    public long EpochSlots { get; private set; }

    /// <summary>Batches in one epoch (set once the batcher is built).</summary>
    public int BatchesPerEpoch { get; internal set; }

    public int Epoch { get; private set; }

    /// <summary>Called on the training thread after every batch; keep it cheap.</summary>
    public Action<TrainingProfile>? BatchDone { get; init; }

    /// <summary>Called on the training thread after each phase that ends an epoch's work (validation, checkpoint, resume).</summary>
    public Action<TrainingProfile, string>? PhaseDone { get; init; }

    public double this[string phase] => _seconds[Index(phase)];

    /// <summary>A copy of every phase's seconds so far.</summary>
    public IReadOnlyDictionary<string, double> Snapshot() =>
        Phases.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => _seconds[x.i]);

    /// <summary>Starts the clock for the next phase without charging the time since the last mark to any phase.</summary>
    internal void Restart() => _mark = Stopwatch.GetTimestamp();

    /// <summary>Charges the time since the last mark to <paramref name="phase"/>.</summary>
    internal void Lap(string phase)
    {
        long now = Stopwatch.GetTimestamp();
        _seconds[Index(phase)] += Stopwatch.GetElapsedTime(_mark, now).TotalSeconds;
        _mark = now;
        if (phase is "validation" or "checkpoint" or "resume" or "test" or "baseline")
        {
            PhaseDone?.Invoke(this, phase);
        }
    }

    internal void StartEpoch(int epoch)
    {
        Epoch = epoch;
        EpochBatches = 0;
        EpochScored = 0;
        EpochSlots = 0;
        Restart();
    }

    internal void EndBatch(ReadOnlySpan<bool> mask)
    {
        EpochScored += mask.Count(true);
        EpochSlots += mask.Length;
        EpochBatches++;
        TotalBatches++;
        BatchDone?.Invoke(this);
        Restart();
    }

    private static int Index(string phase)
    {
        for (int i = 0; i < Phases.Count; i++)
        {
            if (Phases[i] == phase)
            {
                return i;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(phase), phase, "Unknown phase.");
    }
}
