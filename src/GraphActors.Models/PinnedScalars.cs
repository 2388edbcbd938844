// Constants for libtorch calls that take a Scalar, held for the life of the process.
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Models;

/// <summary>
/// TorchSharp 0.107 wraps the constant of <c>a + b</c> (alpha = 1), <c>x + 1</c>, <c>x * n</c> or <c>clamp_min(1)</c> in
/// a <see cref="Scalar"/> that only the GC frees, and reads its handle before the native call, so a GC during the call
/// can free it while libtorch still reads it (dotnet/TorchSharp#1434). Under load that surfaced as "Expected false to
/// be true … Scalar.h:140" inside <c>add</c> in training and serving. The forward passes use these instead: a Scalar
/// held by a static field is never finalized. Tensor–tensor <c>-</c>, <c>*</c> and <c>/</c> take no Scalar and stay
/// operators.
/// </summary>
public static class PinnedScalars
{
    public static readonly Scalar One = 1;
    public static readonly Scalar OneDouble = 1.0;
    public static readonly Scalar LeakyReluSlope = 0.01;

    /// <summary><paramref name="a"/> + <paramref name="b"/> without a temporary Scalar.</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, One);

    /// <summary><paramref name="a"/> + <paramref name="b"/> for a Scalar the caller keeps alive (a pinned one).</summary>
    public static Tensor Plus(this Tensor a, Scalar b) => a.add(b, One);

    /// <summary><paramref name="a"/> · <paramref name="factor"/>, the factor held alive for the call.</summary>
    public static Tensor Times(this Tensor a, long factor)
    {
        Scalar scalar = factor;
        try { return a.mul(scalar); }
        finally { scalar.Dispose(); }
    }
}
