using System.Collections.Immutable;

namespace RankService.Ranking.Checkpoints;

/// <summary>
/// The one writer of files that other threads and processes read while they change (checkpoints, resume states, job
/// status records, serving.json): the bytes go to a temporary file in the same folder, are flushed to disk, and the
/// temporary file is renamed over the target. A reader sees the old or the new content, never a mix; a write that
/// fails (disk full, permission) throws the OS's exception, leaves the target as it was and removes its temporary file.
/// </summary>
public static class AtomicFile
{
    private static ImmutableList<Func<string, Exception?>> s_faults = [];

    /// <summary>Replaces <paramref name="path"/>'s content with <paramref name="bytes"/> atomically.</summary>
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                // An injected fault strikes half-way, as a full disk would: the temporary file holds a part.
                int half = bytes.Length / 2;
                stream.Write(bytes[..half]);
                ThrowInjectedFault(path);
                stream.Write(bytes[half..]);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/>'s content atomically with what <paramref name="write"/> writes to the stream it is
    /// given (for content written in pieces, such as an exported table); <paramref name="write"/> must not close it.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                ThrowInjectedFault(path);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// Test seam: until the result is disposed, a write whose target <paramref name="fault"/> returns an exception for
    /// throws that exception part-way through, as a failing disk would. Faults of several tests may be active at once;
    /// each should match only paths under its own folder.
    /// </summary>
    public static IDisposable InjectFault(Func<string, Exception?> fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ImmutableInterlocked.Update(ref s_faults, list => list.Add(fault));
        return new Injected(fault);
    }

    private static void ThrowInjectedFault(string path)
    {
        foreach (Func<string, Exception?> fault in s_faults)
        {
            if (fault(Path.GetFullPath(path)) is { } exception)
            {
                throw exception;
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The write's own exception says what went wrong; a leftover temporary file is harmless.
        }
    }

    private sealed class Injected(Func<string, Exception?> fault) : IDisposable
    {
        public void Dispose() => ImmutableInterlocked.Update(ref s_faults, list => list.Remove(fault));
    }
}
