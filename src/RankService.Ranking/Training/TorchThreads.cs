using TorchSharp;

namespace RankService.Ranking.Training;

/// <summary>
/// libtorch's intra-op thread count is one setting of the whole process (<c>set_num_threads</c>), not of a run, and
/// a thread that has already run a parallel op may keep the count it started with. So it is chosen once, at
/// start-up, by the program that trains: the CLI from <c>--threads</c> before its first run, the service from
/// <c>Jobs:TrainingThreads</c> when its Hangfire server starts. <see cref="Trainer"/> never sets it: a run that did
/// would change the count under the runs beside it. Concurrent runs share the one intra-op pool; the same config,
/// data and seed give the same model at the same thread count, whatever else runs beside them.
/// </summary>
public static class TorchThreads
{
    /// <summary>Sets the process's intra-op thread count; 0 leaves libtorch's default (one per core).</summary>
    public static void UseForProcess(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        if (threads > 0 && torch.get_num_threads() != threads)
        {
            torch.set_num_threads(threads);
        }
    }
}
