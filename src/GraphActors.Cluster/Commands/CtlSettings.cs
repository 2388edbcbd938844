// Immutable settings of what ctl may do on a node, read from graphactors.ctl (Commands/reference.conf holds the defaults).
using Akka.Configuration;

namespace GraphActors.Cluster.Commands;

public sealed class CtlSettings
{
    private static readonly Lazy<Config> Reference = new(() => EmbeddedConfig.Load("GraphActors.Cluster.Commands.reference.conf"));

    /// <summary>The embedded, commented defaults (<c>Commands/reference.conf</c>).</summary>
    public static Config DefaultConfig => Reference.Value;

    private CtlSettings(string token, string source, bool quietClientDisconnects)
    {
        Token = token;
        Source = source;
        QuietClientDisconnects = quietClientDisconnects;
    }

    /// <summary>The token changing commands must carry; empty: none is set, and every changing command is refused.</summary>
    public string Token { get; }

    /// <summary>Where the token came from, for the node's start line (never the token itself).</summary>
    public string Source { get; }

    public bool QuietClientDisconnects { get; }

    /// <summary>
    /// Reads graphactors.ctl; a <c>token-file</c> that does not exist is created with a fresh token (<see cref="CtlToken.ReadOrCreate"/>).
    /// </summary>
    public static CtlSettings Create(Config config)
    {
        var c = config.WithFallback(DefaultConfig).GetConfig("graphactors.ctl");
        var quiet = c.GetBoolean("quiet-client-disconnects", true);
        var token = c.GetString("token", "").Trim();
        if (token.Length > 0) return new CtlSettings(token, "graphactors.ctl.token", quiet);
        var file = c.GetString("token-file", "").Trim();
        if (file.Length == 0) return new CtlSettings("", "", quiet);
        var (fromFile, created) = CtlToken.ReadOrCreate(file);
        var full = Path.GetFullPath(file);
        var warning = CtlToken.OthersMayRead(full) ? "; warning: others may read it (chmod 600)" : "";
        return new CtlSettings(fromFile, $"{full}{(created ? " (created now)" : "")}{warning}", quiet);
    }

    public CtlSettings WithToken(string token) => new(token, "given", QuietClientDisconnects);

    /// <summary>The node's start line about ctl.</summary>
    public string Describe() => Token.Length > 0
        ? $"ctl: changing commands (cluster leave/down/down-unreachable/join, train start/stop/resume, model register/unregister/scale/export) need the token of {Source}"
        : "warning: no ctl token (graphactors.ctl.token-file, graphactors.ctl.token or GA_CTL_TOKEN): this node refuses ctl's changing " +
          "commands (cluster leave/down/down-unreachable/join, train start/stop/resume, model register/unregister/scale/export); read-only ones answer";
}
