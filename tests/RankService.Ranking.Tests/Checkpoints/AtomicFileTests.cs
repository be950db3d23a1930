using RankService.Ranking.Checkpoints;

namespace RankService.Ranking.Tests.Checkpoints;

public class AtomicFileTests
{
    [Fact]
    public void A_write_replaces_the_content_and_leaves_no_temporary_file()
    {
        string folder = TestData.TempFolder();
        string path = Path.Combine(folder, "status.json");

        AtomicFile.Write(path, "old"u8);
        AtomicFile.Write(path, "new content"u8);

        Assert.Equal("new content"u8.ToArray(), File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void A_failing_write_throws_the_os_error_keeps_the_old_content_and_removes_its_temporary_file()
    {
        string folder = TestData.TempFolder();
        string path = Path.Combine(folder, "best.json");
        AtomicFile.Write(path, "valid checkpoint"u8);

        IOException thrown;
        using (AtomicFile.InjectFault(p => p.StartsWith(folder, StringComparison.Ordinal) ? new IOException("No space left on device") : null))
        {
            thrown = Assert.Throws<IOException>(() => AtomicFile.Write(path, "half-written replacement"u8));
        }

        Assert.Equal("No space left on device", thrown.Message);
        Assert.Equal("valid checkpoint"u8.ToArray(), File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public void A_fault_strikes_only_the_paths_it_matches_and_only_until_it_is_disposed()
    {
        string folder = TestData.TempFolder();
        string struck = Path.Combine(folder, "status.json");
        string spared = Path.Combine(folder, "serving.json");

        IDisposable fault = AtomicFile.InjectFault(p => p == struck ? new UnauthorizedAccessException($"Access to the path '{p}' is denied.") : null);
        Assert.Throws<UnauthorizedAccessException>(() => AtomicFile.Write(struck, "x"u8));
        AtomicFile.Write(spared, "y"u8);
        fault.Dispose();
        AtomicFile.Write(struck, "z"u8);

        Assert.Equal("y"u8.ToArray(), File.ReadAllBytes(spared));
        Assert.Equal("z"u8.ToArray(), File.ReadAllBytes(struck));
    }

    [Fact]
    public void Content_written_in_pieces_to_a_stream_replaces_the_file_whole_or_not_at_all()
    {
        string folder = TestData.TempFolder();
        string path = Path.Combine(folder, "items.npy");
        AtomicFile.Write(path, stream =>
        {
            stream.Write("first "u8);
            stream.Write("second"u8);
        });
        Assert.Equal("first second"u8.ToArray(), File.ReadAllBytes(path));

        using (AtomicFile.InjectFault(p => p == path ? new IOException("Disk quota exceeded") : null))
        {
            Assert.Throws<IOException>(() => AtomicFile.Write(path, stream => stream.Write("replacement"u8)));
        }
        Assert.Throws<InvalidDataException>(() => AtomicFile.Write(path, _ => throw new InvalidDataException("the writer failed")));

        Assert.Equal("first second"u8.ToArray(), File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(folder));
    }

    [Fact]
    public async Task A_reader_racing_the_writer_sees_the_old_or_the_new_content_never_a_mix()
    {
        string path = Path.Combine(TestData.TempFolder(), "serving.json");
        byte[] a = Enumerable.Repeat((byte)'a', 1 << 16).ToArray();
        byte[] b = Enumerable.Repeat((byte)'b', 1 << 17).ToArray();
        AtomicFile.Write(path, a);

        var writer = Task.Run(() =>
        {
            for (int i = 0; i < 200; i++)
            {
                AtomicFile.Write(path, i % 2 == 0 ? b : a);
            }
        });
        int reads = 0;
        while (!writer.IsCompleted || reads < 200)
        {
            byte[] seen = File.ReadAllBytes(path);
            Assert.True(seen.AsSpan().SequenceEqual(a) || seen.AsSpan().SequenceEqual(b), $"read {reads} saw {seen.Length} mixed bytes");
            reads++;
        }
        await writer;
    }
}
