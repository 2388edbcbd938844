// Hands freed native memory back to the OS between epochs once glibc holds much of it (it keeps it in its arenas).
using System.Runtime.InteropServices;

namespace GraphActors.Training;

/// <summary>
/// How glibc's allocator serves libtorch's tensors, and giving freed memory back between epochs.
/// <para><see cref="Configure"/>: glibc trims the top of a heap whenever 128 KB of it is free, so every batch's
/// tensors (hundreds of MB on a 1M-edge block) went back to the kernel at the end of the step and were faulted in,
/// page by page and zeroed, in the next one: a third of the large training case's time was the kernel clearing
/// pages. Trimming is left to <see cref="Trim"/>, once per epoch (malloc_trim also releases free pages inside the heap);
/// buffers up to 1 GB come from the heap instead of a fresh mmap each (glibc's own threshold stops at 32 MB, and a
/// 500-wide batch's features are hundreds of MB); and one arena per core (at least two) serves the process instead of
/// glibc's eight per core, so that a step that resumes on another thread-pool thread mostly finds the memory the
/// previous step freed instead of growing an arena of its own, while threads still rarely wait for an arena's lock.</para>
/// <para>libtorch frees a batch's tensors (a Cora batch's input is ~15 MB) with free(); glibc raises its mmap threshold after
/// such frees, so later buffers come from the heap arenas, and freed arena memory stays resident. Trimming after every
/// epoch kept the resident size flat but made the next epoch fault every page back in (a sixth of a Cora epoch's
/// time, in the kernel zeroing pages), so <see cref="Trim"/> returns the memory only when the arenas hold more than
/// <see cref="FreeBytesBeforeTrim"/> free. Both are no-ops where glibc is absent (musl, macOS, Windows).</para>
/// </summary>
public static partial class NativeHeap
{
    private const int MTrimThreshold = -1, MMmapThreshold = -3, MArenaMax = -8;
    private static int _configured;

    /// <summary>Sets glibc's trim threshold, mmap threshold and arena count for tensor work (once per process).</summary>
    public static void Configure()
    {
        if (_unavailable || Interlocked.Exchange(ref _configured, 1) == 1) return;
        try
        {
            _ = mallopt(MTrimThreshold, int.MaxValue);
            _ = mallopt(MMmapThreshold, 1 << 30);
            _ = mallopt(MArenaMax, Math.Max(2, Environment.ProcessorCount));
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { _unavailable = true; }
    }

    /// <summary>Free arena bytes that glibc may keep for reuse before a trim gives them back.</summary>
    public const long FreeBytesBeforeTrim = 256L << 20;

    private static bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>Free bytes held in glibc's arenas (mallinfo2's fordblks), or -1 where that cannot be read.</summary>
    public static long FreeBytes()
    {
        if (_unavailable) return -1;
        try { return (long)mallinfo2().fordblks; }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { _unavailable = true; return -1; }
    }

    /// <summary>Trims when the arenas hold more than <see cref="FreeBytesBeforeTrim"/> free (or when that cannot be read).</summary>
    public static void Trim()
    {
        if (_unavailable) return;
        var free = FreeBytes();
        if (free is >= 0 and <= FreeBytesBeforeTrim) return;
        try { _ = malloc_trim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { _unavailable = true; }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 mallinfo2();

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }
}
