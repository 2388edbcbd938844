// Compiled into every test project (see Directory.Build.props): finds the shared data sets.
namespace GraphActors.TestSupport;

/// <summary>Finds shared data sets: $GRAPHACTORS_DATA, else ../shared/data beside the repository root.</summary>
public static class SharedData
{
    public static string? Find(string name)
    {
        var env = Environment.GetEnvironmentVariable("GRAPHACTORS_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(Path.Combine(env, name))) return Path.GetFullPath(Path.Combine(env, name));
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (!File.Exists(Path.Combine(d.FullName, "GraphActors.sln"))) continue;
            var p = Path.Combine(d.FullName, "..", "shared", "data", name);
            return Directory.Exists(p) ? Path.GetFullPath(p) : null;
        }
        return null;
    }

    public static string Require(string name) =>
        Find(name) ?? throw new DirectoryNotFoundException(
            $"Data set '{name}' not found: set GRAPHACTORS_DATA or put it at ../shared/data/{name} beside the repository.");
}

/// <summary>
/// A fact that needs a shared data set: when the set is missing the test is reported as skipped, with the
/// place it was looked for, rather than passing silently.
/// </summary>
public sealed class DatasetFactAttribute : FactAttribute
{
    public DatasetFactAttribute(string dataset)
    {
        if (SharedData.Find(dataset) is null)
            Skip = $"Data set '{dataset}' not found: set GRAPHACTORS_DATA or put it at ../shared/data/{dataset} beside the repository.";
    }
}

/// <summary>A theory that needs a shared data set: skipped, saying where it was looked for, when the set is missing.</summary>
public sealed class DatasetTheoryAttribute : TheoryAttribute
{
    public DatasetTheoryAttribute(string dataset)
    {
        if (SharedData.Find(dataset) is null)
            Skip = $"Data set '{dataset}' not found: set GRAPHACTORS_DATA or put it at ../shared/data/{dataset} beside the repository.";
    }
}
