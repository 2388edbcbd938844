using static TorchSharp.torch;

namespace GraphActors.Models.Tests;

public sealed class TorchSharpNativeTests
{
    // Fails with TypeInitializationException when build/TorchSharpNativeFix.targets did not patch
    // the output copy of libLibTorchSharp.so on a system with an older libstdc++.
    [Fact]
    public void TorchSharp_native_library_loads_and_computes()
    {
        using var scope = NewDisposeScope();
        Assert.Equal(2f, ones(2).sum().item<float>());
    }
}
