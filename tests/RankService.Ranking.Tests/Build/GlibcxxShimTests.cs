using System.Reflection;
using RankService.Build;
using TorchSharp;

namespace RankService.Ranking.Tests.Build;

public class GlibcxxShimTests
{
    private static string OriginalNative =>
        typeof(GlibcxxShimTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "TorchSharpNativeOriginal").Value!;

    [Fact]
    public void Torch_initialises_and_computes()
    {
        using var x = torch.arange(4, dtype: torch.float64);
        Assert.Equal(6.0, x.sum().item<double>());
    }

    [Fact]
    public void Shim_relaxes_the_original_once_and_is_idempotent()
    {
        Assert.True(File.Exists(OriginalNative), $"TorchSharp's native library was not restored at {OriginalNative}");
        byte[] original = File.ReadAllBytes(OriginalNative);

        byte[] once = (byte[])original.Clone();
        Assert.Equal(ShimOutcome.Patched, ElfVersionShim.Relax(once));
        int changed = original.Zip(once).Count(p => p.First != p.Second);
        Assert.InRange(changed, 1, 4); // one flags half-word and one versym half-word, nothing else

        byte[] twice = (byte[])once.Clone();
        Assert.Equal(ShimOutcome.AlreadyRelaxed, ElfVersionShim.Relax(twice));
        Assert.Equal(once, twice);
    }

    [Fact]
    public void Shim_leaves_files_that_are_not_elf_alone()
    {
        byte[] text = "not an ELF file at all, just some text that is long enough to have a header......"u8.ToArray();
        byte[] copy = (byte[])text.Clone();
        Assert.Equal(ShimOutcome.Unsupported, ElfVersionShim.Relax(copy));
        Assert.Equal(text, copy);
    }

    [Fact]
    public void Output_copy_is_relaxed_where_the_system_libstdcxx_is_old()
    {
        string output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(output));
        byte[] bytes = File.ReadAllBytes(output);
        ShimOutcome expected = ElfVersionShim.SystemLibstdcxxIsNewEnough() ? ShimOutcome.Patched : ShimOutcome.AlreadyRelaxed;
        Assert.Equal(expected, ElfVersionShim.Relax(bytes));
    }
}
