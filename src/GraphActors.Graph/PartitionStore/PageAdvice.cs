// madvise(2) for memory-mapped store files: how their pages will be read, so the kernel reads ahead only where it helps.
using System.Runtime.InteropServices;

namespace GraphActors.Graph.Storage;

internal static unsafe partial class PageAdvice
{
    private const int MadvRandom = 1;

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int Madvise(void* address, nuint length, int advice);

    /// <summary>
    /// Marks the mapped pages at <paramref name="pageAlignedStart"/> as read at random (MADV_RANDOM): a page fault reads
    /// that page only. Without it a fault on a feature row reads ahead 128 KiB or more; when the slabs exceed RAM, the
    /// page cache then fills with rows nobody asked for and evicts the ones in use, so the disk reads dozens of times the
    /// bytes the batches need. Advice only: where madvise is missing or refuses, pages are read as before (true when
    /// the kernel took it).
    /// </summary>
    public static bool Random(byte* pageAlignedStart, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return false;
        return Madvise(pageAlignedStart, (nuint)length, MadvRandom) == 0;
    }
}
