using System.Collections.Concurrent;

namespace RankService.Api.Jobs;

/// <summary>
/// One token source per running job, so <c>DELETE /jobs/{id}</c> reaches the trainer at once rather than when
/// Hangfire next polls its job state. The job links it with Hangfire's own token (shutdown, deletion).
/// </summary>
public sealed class JobCancellations
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _sources = new(StringComparer.Ordinal);

    /// <summary>Registers a running job; dispose the result when the job ends.</summary>
    public Registration Register(string jobId, CancellationToken hangfireToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(hangfireToken);
        _sources[jobId] = source;
        return new Registration(this, jobId, source);
    }

    /// <summary>Requests cancellation of a running job; false when it is not running here.</summary>
    public bool Cancel(string jobId)
    {
        if (_sources.TryGetValue(jobId, out CancellationTokenSource? source))
        {
            try
            {
                source.Cancel();
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
        return false;
    }

    public sealed class Registration(JobCancellations owner, string jobId, CancellationTokenSource source) : IDisposable
    {
        public CancellationToken Token => source.Token;

        public void Dispose()
        {
            owner._sources.TryRemove(new KeyValuePair<string, CancellationTokenSource>(jobId, source));
            source.Dispose();
        }
    }
}
