// docs/CONFIGURATION.md names every graphactors.* key the configuration files define; docs/CLI.md has a heading per verb.
using System.Text.RegularExpressions;
using Akka.Configuration;
using Akka.Configuration.Hocon;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Cluster.Tests.Trainers;

namespace GraphActors.Cluster.Tests.Hosting;

public sealed class ConfigurationDocTests
{
    private static readonly string Root = RepoFiles.Root;

    private static IEnumerable<string> LeafKeys(HoconValue value, string path)
    {
        if (value.IsObject())
        {
            foreach (var (key, child) in value.GetObject().Items)
                foreach (var leaf in LeafKeys(child, path.Length == 0 ? key : path + "." + key))
                    yield return leaf;
        }
        else yield return path;
    }

    [Fact]
    public void Every_graphactors_key_of_the_reference_conf_and_hocon_files_is_in_CONFIGURATION_md()
    {
        var files = Directory.GetFiles(Path.Combine(Root, "src"), "reference.conf", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(Root, "hocon"), "*.hocon")).ToArray();
        Assert.True(files.Length >= 6, $"found only {files.Length} configuration files");
        var doc = File.ReadAllText(Path.Combine(Root, "docs", "CONFIGURATION.md"));
        var missing = new List<string>();
        var keys = 0;
        foreach (var file in files)
        {
            var config = ConfigurationFactory.ParseString(File.ReadAllText(file));
            foreach (var key in LeafKeys(config.Root, "").Where(k => k.StartsWith("graphactors.", StringComparison.Ordinal)))
            {
                keys++;
                if (!doc.Contains($"`{key}`", StringComparison.Ordinal)) missing.Add($"{key} (from {Path.GetRelativePath(Root, file)})");
            }
        }
        Assert.True(keys > 50, $"only {keys} graphactors.* keys found: the walk is broken");
        Assert.True(missing.Count == 0, "docs/CONFIGURATION.md does not document:\n" + string.Join('\n', missing.Distinct()));
    }

    [Fact]
    public void Every_environment_variable_NodeConfig_reads_is_in_CONFIGURATION_md()
    {
        var doc = File.ReadAllText(Path.Combine(Root, "docs", "CONFIGURATION.md"));
        foreach (var (variable, path) in GraphActors.Cluster.Hosting.NodeConfig.Overrides)
            Assert.Matches($@"\| `{variable}` \| `{Regex.Escape(path)}`", doc);
    }

    [Fact]
    public async Task Every_verb_of_graphactors_help_is_a_heading_in_CLI_md()
    {
        using var help = CliProcess.Start(["--help"]);
        Assert.Equal(0, await help.WaitForExit(TimeSpan.FromSeconds(60)));
        var commands = help.Stdout[help.Stdout.IndexOf("Commands:", StringComparison.Ordinal)..];
        var verbs = Regex.Matches(commands, @"(?m)^  ([a-z][a-z-]*)\s").Select(m => m.Groups[1].Value).ToArray();
        Assert.Contains("deploy", verbs);
        Assert.True(verbs.Length >= 10, $"only {verbs.Length} verbs in --help:\n{help.Stdout}");
        var doc = File.ReadAllText(Path.Combine(Root, "docs", "CLI.md"));
        var missing = verbs.Where(v => !Regex.IsMatch(doc, $@"(?m)^## {Regex.Escape(v)}\s*$")).ToArray();
        Assert.True(missing.Length == 0, "docs/CLI.md has no '## <verb>' heading for: " + string.Join(", ", missing));
    }
}
