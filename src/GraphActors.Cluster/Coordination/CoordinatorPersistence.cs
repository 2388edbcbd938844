// Turns graphactors.persistence (and GA_JOURNAL) into Akka.Persistence.Sql's journal and snapshot-store configuration.
using Akka.Configuration;
using Akka.Persistence.Sql;
using GraphActors.Cluster.Hosting;

namespace GraphActors.Cluster.Coordination;

public static class CoordinatorPersistence
{
    public const string SqliteProvider = "SQLite.MS";
    public const string PostgreSqlProvider = "PostgreSQL.15";

    /// <summary>The connection string and linq2db provider <paramref name="config"/> asks for (a SQLite file unless told otherwise).</summary>
    public static (string ConnectionString, string Provider) Resolve(Config config)
    {
        var c = config.WithFallback(CoordinatorSettings.DefaultConfig);
        var connection = c.GetString("graphactors.persistence.journal-connection-string", "").Trim();
        var provider = c.GetString("graphactors.persistence.provider", "").Trim();
        // "postgresql:Host=…" / "sqlite:Data Source=…" / "PostgreSQL.15:Host=…": a provider before the first ':' of a key=value string.
        var colon = connection.IndexOf(':');
        if (colon > 0 && connection.AsSpan(0, colon).IndexOfAny("=; ") < 0)
        {
            provider = connection[..colon];
            connection = connection[(colon + 1)..].Trim();
        }
        provider = provider.ToLowerInvariant() switch
        {
            "sqlite" => SqliteProvider,
            "postgresql" or "postgres" or "pg" or "npgsql" => PostgreSqlProvider,
            _ => provider,
        };
        if (connection.Length == 0)
        {
            var file = c.GetString("graphactors.persistence.sqlite-path", "");
            if (string.IsNullOrWhiteSpace(file)) file = Path.Combine(NodeConfig.DataDir(c), "coordinator.db");
            return ($"Data Source={Path.GetFullPath(file)}", provider.Length == 0 ? SqliteProvider : provider);
        }
        if (provider.Length == 0)
            provider = connection.Contains("Host=", StringComparison.OrdinalIgnoreCase) ? PostgreSqlProvider : SqliteProvider;
        return (connection, provider);
    }

    /// <summary>
    /// The akka.persistence section for the coordinator: the SQL journal and snapshot store as default plugins, tables
    /// created on first use, our binary serializer for events (they are IGraphActorsMessage, bound in serialization.conf).
    /// Put it over a node's configuration (NodeConfig.Load does).
    /// </summary>
    public static Config AkkaConfig(Config config)
    {
        var (connection, provider) = Resolve(config);
        return ConfigurationFactory.ParseString($$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = {{NodeConfig.Quote(connection)}}
                  provider-name = {{NodeConfig.Quote(provider)}}
                  auto-initialize = on
                }
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = {{NodeConfig.Quote(connection)}}
                  provider-name = {{NodeConfig.Quote(provider)}}
                  auto-initialize = on
                }
              }
            }
            """).WithFallback(SqlPersistence.DefaultConfiguration);
    }

    /// <summary>Creates the directory of a SQLite journal file (SQLite creates the file, not its folder).</summary>
    public static void EnsureStorage(Config config)
    {
        var (connection, provider) = Resolve(config);
        if (provider != SqliteProvider) return;
        var builder = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connection };
        if (builder.TryGetValue("Data Source", out var source) && source is string file && file.Length > 0 && file != ":memory:")
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
    }
}
