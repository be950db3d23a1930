using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;

namespace RankService.Api.Datasets;

/// <summary>
/// Runs an import's reading and parsing on a thread of its own, a few thousand records ahead of the store that
/// writes them, so the two overlap on two cores. Only for a consumer that leaves the <see cref="ProblemCollector"/>
/// alone until the records are all read (the producer adds to it; the end of the records orders the two). The source's
/// own exception comes out as it was thrown, so the API still tells a broken-off body from a refused one.
/// </summary>
internal static class ReadAhead
{
    private const int ChunkSize = 2048;

    public static async IAsyncEnumerable<T> Of<T>(IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chunks = Channel.CreateBounded<T[]>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ExceptionDispatchInfo? failure = null;
        Task producer = Task.Run(async () =>
        {
            try
            {
                var chunk = new T[ChunkSize];
                int n = 0;
                await foreach (T item in source.WithCancellation(stop.Token))
                {
                    chunk[n++] = item;
                    if (n == ChunkSize)
                    {
                        await chunks.Writer.WriteAsync(chunk, stop.Token);
                        chunk = new T[ChunkSize];
                        n = 0;
                    }
                }
                if (n > 0)
                {
                    await chunks.Writer.WriteAsync(chunk[..n], stop.Token);
                }
            }
#pragma warning disable CA1031 // handed to the consumer, which rethrows it as it was
            catch (Exception e)
#pragma warning restore CA1031
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                chunks.Writer.TryComplete();
            }
        }, CancellationToken.None);
        try
        {
            await foreach (T[] chunk in chunks.Reader.ReadAllAsync(CancellationToken.None))
            {
                foreach (T item in chunk)
                {
                    yield return item;
                }
            }
            await producer;
            failure?.Throw();
        }
        finally
        {
            await stop.CancelAsync(); // the consumer stopped early: stop reading the body
            await producer;
        }
    }
}
