using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Support;

namespace GraphActors.Cluster.Tests.Coordination;

/// <summary>
/// A node with the trainer role logs no warning about the coordinator at a healthy start (the singleton proxy's own
/// warning fired a few hundred ms after every start), and does warn, naming the role and its members, when the
/// coordinator really does not answer. Each test runs its own one-node cluster on a free 127.0.0.1 port.
/// </summary>
public class CoordinatorProxyWatchSpec() : TestKit(ConfigurationFactory.ParseString("akka.actor.provider = local"))
{
    private static ActorSystem Node(string journalDir)
    {
        var config = NodeConfig.WithPersistence(TestNodes.Node(TestNodes.FreePort(), [], "trainer", null, $$"""
            akka.loglevel = WARNING
            akka.actor.serialize-messages = off
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            graphactors.persistence.sqlite-path = {{NodeConfig.Quote(Path.Combine(journalDir, "coordinator.db"))}}
            """));
        return ActorSystem.Create(Names.ActorSystem, config);
    }

    private TestProbe Warnings(ActorSystem system)
    {
        var probe = CreateTestProbe(system);
        system.EventStream.Subscribe(probe.Ref, typeof(Warning));
        return probe;
    }

    [Fact]
    public async Task A_healthy_start_logs_no_warning_about_the_coordinator()
    {
        var dir = Directory.CreateTempSubdirectory("ga-proxy-watch-").FullName;
        var system = Node(dir);
        try
        {
            var warnings = Warnings(system);
            var settings = CoordinatorSettings.Create(system);
            system.StartTrainingCoordinator(settings);
            var proxy = system.StartTrainingCoordinatorProxy(settings);
            Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress);
            // The coordinator answers through the proxy …
            await proxy.Ask<GraphActors.Contracts.Protocols.TrainingProtocol.JobStatus>(new GraphActors.Contracts.Protocols.TrainingProtocol.GetJobStatus(), TimeSpan.FromSeconds(30));
            // … and nothing warned about it from the start until a while after it answered.
            var seen = warnings.ReceiveWhile<Warning>(TimeSpan.FromSeconds(3), o => (o as Warning)!) // null (not a warning) ends the wait
                .Select(w => w.Message.ToString() ?? "")
                .Where(m => m.Contains("coordinator", StringComparison.OrdinalIgnoreCase) || m.Contains("singleton", StringComparison.OrdinalIgnoreCase))
                .ToArray();
            Assert.True(seen.Length == 0, $"warnings at a healthy start: {string.Join(" | ", seen)}");
        }
        finally
        {
            await system.Terminate();
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_coordinator_that_does_not_answer_is_reported_with_the_role_and_its_members()
    {
        var dir = Directory.CreateTempSubdirectory("ga-proxy-watch-").FullName;
        var system = Node(dir);
        try
        {
            var warnings = Warnings(system);
            // A proxy and its watch, but no singleton manager anywhere: a trainer member is up, the coordinator never answers.
            var proxy = system.ActorOf(Akka.Cluster.Tools.Singleton.ClusterSingletonProxy.Props($"/user/{Names.TrainingCoordinatorSingleton}",
                Akka.Cluster.Tools.Singleton.ClusterSingletonProxySettings.Create(system).WithRole("trainer").WithSingletonName("coordinator")
                    .WithLogSingletonIdentificationFailure(false)));
            system.ActorOf(CoordinatorProxyWatch.Props(proxy, "trainer", TimeSpan.FromSeconds(2)));
            var cluster = Akka.Cluster.Cluster.Get(system);
            cluster.Join(cluster.SelfAddress);
            var warning = warnings.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("has not answered", StringComparison.Ordinal), TimeSpan.FromSeconds(15));
            var text = warning.Message.ToString()!;
            Assert.Contains("[trainer]", text);
            Assert.Contains(cluster.SelfAddress.ToString(), text);
            // Said again after another patience, not at every check.
            var again = warnings.FishForMessage<Warning>(w => w.Message.ToString()!.Contains("has not answered", StringComparison.Ordinal), TimeSpan.FromSeconds(15));
            Assert.True(again.Timestamp - warning.Timestamp >= TimeSpan.FromSeconds(1.9), $"warned at {warning.Timestamp:O} and again at {again.Timestamp:O}");
        }
        finally
        {
            await system.Terminate();
            Directory.Delete(dir, true);
        }
    }
}
