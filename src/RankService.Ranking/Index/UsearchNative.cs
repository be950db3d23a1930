using System.Reflection;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace RankService.Ranking.Index;

/// <summary>
/// The three calls of USearch's C library that its C# wrapper (2.26.6) does not expose: reserving the whole capacity
/// once (the wrapper's <c>Add</c> reserves one slot at a time, which is not safe from several threads, so a parallel
/// build needs the capacity up front), and setting the search expansion and the number of concurrent searches on an
/// index loaded from a file. The native handle is the wrapper's private <c>_index</c> field; the package version is
/// pinned, and a wrapper without that field fails loudly here rather than building serially without saying so.
/// </summary>
internal static class UsearchNative
{
    private const string Library = "libusearch_c";

    private static readonly FieldInfo s_handle = typeof(USearchIndex).GetField("_index", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("Cloud.Unum.USearch's USearchIndex has no '_index' handle field; this code is written for version 2.26.6.");

    public static void Reserve(USearchIndex index, int capacity)
    {
        usearch_reserve(Handle(index), (nuint)capacity, out IntPtr error);
        ThrowIfError(error);
    }

    public static void ChangeExpansionSearch(USearchIndex index, int expansion)
    {
        usearch_change_expansion_search(Handle(index), (nuint)expansion, out IntPtr error);
        ThrowIfError(error);
    }

    /// <summary>How many searches may run at once (each holds one of the index's per-thread contexts).</summary>
    public static void ChangeThreadsSearch(USearchIndex index, int threads)
    {
        usearch_change_threads_search(Handle(index), (nuint)threads, out IntPtr error);
        ThrowIfError(error);
    }

    private static IntPtr Handle(USearchIndex index) => (IntPtr)s_handle.GetValue(index)!;

    private static void ThrowIfError(IntPtr error)
    {
        if (error != IntPtr.Zero)
        {
            throw new USearchException(Marshal.PtrToStringAnsi(error) ?? "USearch reported an error.");
        }
    }

    [DllImport(Library)]
    private static extern void usearch_reserve(IntPtr index, nuint capacity, out IntPtr error);

    [DllImport(Library)]
    private static extern void usearch_change_expansion_search(IntPtr index, nuint expansion, out IntPtr error);

    [DllImport(Library)]
    private static extern void usearch_change_threads_search(IntPtr index, nuint threads, out IntPtr error);
}
