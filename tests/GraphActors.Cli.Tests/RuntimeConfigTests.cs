using System.Text.Json;

namespace GraphActors.Cli.Tests;

/// <summary>Runtime settings every `graphactors` process gets from the runtimeconfig.json built beside it.</summary>
public sealed class RuntimeConfigTests
{
    [Fact]
    public void Thread_pool_workers_sleep_at_once_instead_of_spinning_when_out_of_work()
    {
        // 33 idle nodes on 2 cores spent 0.68 of a core with the runtime's spin, 0.30 without (docs/BENCHMARKS.md).
        var path = Path.ChangeExtension(RepoFiles.CliDll, ".runtimeconfig.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var properties = doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.True(properties.TryGetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit", out var limit),
            $"{path} does not set System.Threading.ThreadPool.UnfairSemaphoreSpinLimit");
        Assert.Equal(0, limit.GetInt32());
    }
}
