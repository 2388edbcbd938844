// The tests run where the product runs: Linux x64 (libtorch's linux-x64 natives, Unix file modes of token files).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
