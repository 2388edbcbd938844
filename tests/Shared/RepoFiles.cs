// Compiled into every test project (see Directory.Build.props): where the repository and the built CLI are.
namespace GraphActors.TestSupport;

public static class RepoFiles
{
    /// <summary>The repository root: the first folder above the test binaries that holds GraphActors.sln.</summary>
    public static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "GraphActors.sln"))) return dir.FullName;
            throw new DirectoryNotFoundException($"No GraphActors.sln above {AppContext.BaseDirectory}.");
        }
    }

    /// <summary>The graphactors.dll built alongside these tests (same configuration).</summary>
    public static string CliDll
    {
        get
        {
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var dll = Path.Combine(Root, "src", "GraphActors.Cli", "bin", configuration, "net10.0", "graphactors.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing: build src/GraphActors.Cli first.");
            return dll;
        }
    }
}
