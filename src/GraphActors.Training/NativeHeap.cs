// Hands freed native memory back to the OS after an epoch (glibc keeps it in its arenas otherwise).
using System.Runtime.InteropServices;

namespace GraphActors.Training;

/// <summary>
/// libtorch frees a batch's tensors (a Cora batch's input is ~15 MB) with free(); glibc raises its mmap threshold after
/// such frees, so later buffers come from the heap arenas, and freed arena memory stays resident. malloc_trim(0) once
/// per epoch returns it (a few ms). A no-op where glibc is absent (musl, macOS, Windows).
/// </summary>
internal static partial class NativeHeap
{
    private static bool _unavailable = !OperatingSystem.IsLinux();

    public static void Trim()
    {
        if (_unavailable) return;
        try { _ = malloc_trim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { _unavailable = true; }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);
}
