// P/Invoke to METIS 5.1 (Debian's libmetis5: idx_t and real_t are 32-bit).
using System.Runtime.InteropServices;

namespace GraphActors.Graph.Partitioning;

/// <summary>Thin binding of <c>METIS_PartGraphKway</c> from <c>libmetis.so.5</c>.</summary>
public static unsafe partial class Metis
{
    public const string LibraryName = "libmetis.so.5";
    public const string DebianPackage = "libmetis5";
    private const int NOptions = 40;
    private const int OptionObjType = 1, OptionSeed = 8, OptionUFactor = 16, OptionNumbering = 17;
    private const int MetisOk = 1, MetisErrorInput = -2;

    // GKlib keeps METIS's random generator in process-global state: concurrent calls would disturb each other's
    // seeded sequence (and are not promised to be safe), so calls are serialised.
    private static readonly Lock Gate = new();

    [LibraryImport(LibraryName, EntryPoint = "METIS_SetDefaultOptions")]
    private static partial int SetDefaultOptions(int* options);

    [LibraryImport(LibraryName, EntryPoint = "METIS_PartGraphKway")]
    private static partial int PartGraphKway(int* nvtxs, int* ncon, int* xadj, int* adjncy, int* vwgt, int* vsize,
        int* adjwgt, int* nparts, float* tpwgts, float* ubvec, int* options, int* edgecut, int* part);

    /// <summary>Whether libmetis can be loaded here.</summary>
    public static bool IsAvailable()
    {
        if (!NativeLibrary.TryLoad(LibraryName, out var handle)) return false;
        NativeLibrary.Free(handle);
        return true;
    }

    /// <summary>
    /// k-way partitions the symmetric graph (<paramref name="xadj"/>, <paramref name="adjncy"/>; no self loops, no
    /// duplicates) with <paramref name="ncon"/> vertex weights per vertex (row-major), minimising the edge cut.
    /// <paramref name="imbalance"/> is the allowed max/mean − 1 per constraint (METIS's ufactor / 1000). Returns the
    /// partition of each vertex and the edge cut METIS reports.
    /// </summary>
    public static int[] PartGraphKway(int[] xadj, int[] adjncy, int[]? vwgt, int ncon, int parts, int seed, double imbalance, out int edgeCut)
    {
        var n = xadj.Length - 1;
        if (vwgt is not null && vwgt.Length != (long)n * ncon)
            throw new ArgumentException($"Vertex weights need {n} × {ncon} entries, got {vwgt.Length}.", nameof(vwgt));
        var part = new int[n];
        if (parts == 1 || n == 0)
        {
            edgeCut = 0;
            return part;
        }
        Array.Fill(part, -1); // so a vector METIS never filled shows (see the check below)
        var options = stackalloc int[NOptions];
        int nvtxs = n, nc = vwgt is null ? 1 : ncon, np = parts, cut = 0;
        try
        {
            Check(SetDefaultOptions(options), "METIS_SetDefaultOptions");
        }
        catch (DllNotFoundException e)
        {
            throw new InvalidOperationException(
                $"METIS partitioning needs {LibraryName}, which could not be loaded. On Debian/Ubuntu install the " +
                $"'{DebianPackage}' package (apt-get install -y {DebianPackage}), or use --method hash.", e);
        }
        options[OptionObjType] = 0; // METIS_OBJTYPE_CUT
        options[OptionSeed] = seed;
        options[OptionNumbering] = 0;
        options[OptionUFactor] = Math.Max(1, (int)Math.Round(imbalance * 1000));
        var ubvec = stackalloc float[nc];
        for (var i = 0; i < nc; i++) ubvec[i] = (float)(1 + imbalance);
        lock (Gate)
        fixed (int* px = xadj, pa = adjncy, pv = vwgt, pp = part)
        {
            Check(PartGraphKway(&nvtxs, &nc, px, adjncy.Length == 0 ? null : pa, pv, null, null, &np, null, ubvec, options, &cut, pp),
                "METIS_PartGraphKway");
        }
        // METIS 5.1 reports some failures only on stdout ("***Cannot bisect a graph with 0 vertices!") and still returns
        // METIS_OK with a part vector it never filled: check every vertex got a part in range before anything uses it.
        for (var v = 0; v < n; v++)
            if ((uint)part[v] >= (uint)parts)
                throw new MetisException($"METIS_PartGraphKway returned OK but gave vertex {v} part {part[v]} (of {parts} parts, {n} vertices): " +
                    "METIS could not partition this graph into this many parts; try fewer --parts or --method hash.");
        // Asked for more parts than it can make, METIS prints "***Cannot bisect a graph with 0 vertices!" and "***You are
        // trying to partition a graph into too many parts!", returns METIS_OK and leaves parts empty.
        var sizes = new int[parts];
        foreach (var p in part) sizes[p]++;
        var empty = sizes.Count(c => c == 0);
        if (empty > 0)
            throw new MetisException($"METIS left {empty:N0} of {parts:N0} parts empty for {n:N0} vertices (it reports this as 'Cannot bisect a graph " +
                "with 0 vertices' / 'too many parts'); use fewer --parts, or --method hash.");
        if (cut < 0) throw new MetisException($"METIS_PartGraphKway returned OK with a negative edge cut {cut}.");
        edgeCut = cut;
        return part;
    }

    private static void Check(int status, string call)
    {
        if (status == MetisOk) return;
        var why = status switch
        {
            -2 => "METIS_ERROR_INPUT (bad input or options)",
            -3 => "METIS_ERROR_MEMORY (out of memory)",
            _ => "METIS_ERROR",
        };
        if (status == MetisErrorInput) throw new MetisException($"{call} failed with {status}: {why}.");
        throw new InvalidOperationException($"{call} failed with {status}: {why}.");
    }
}

/// <summary>METIS refused or failed to partition the graph it was given (its return code, or a part vector out of range).</summary>
public sealed class MetisException(string message) : BadInputException(message);
