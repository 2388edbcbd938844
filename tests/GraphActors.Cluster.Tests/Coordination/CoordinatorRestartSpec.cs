using Akka.Actor;
using Akka.Configuration;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Tests.Support;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Coordination;

/// <summary>
/// A coordinator that stops (as a persistent actor does when its recovery times out on a busy machine) is started again
/// by its singleton, and answers through the proxy as before: no node has to leave for a job to start.
/// </summary>
public class CoordinatorRestartSpec() : TestKit(ConfigurationFactory.ParseString("akka.actor.provider = local"))
{
    [Fact]
    public async Task A_coordinator_that_stops_is_started_again_and_answers_through_the_proxy()
    {
        var dir = Directory.CreateTempSubdirectory("ga-coordinator-restart-").FullName;
        var config = NodeConfig.WithPersistence(TestNodes.Node(TestNodes.FreePort(), [], "trainer", null, $$"""
            akka.loglevel = WARNING
            akka.actor.serialize-messages = off
            akka.coordinated-shutdown.run-by-actor-system-terminate = off
            graphactors.persistence.sqlite-path = {{NodeConfig.Quote(Path.Combine(dir, "coordinator.db"))}}
            """));
        var system = ActorSystem.Create(Names.ActorSystem, config);
        try
        {
            var settings = CoordinatorSettings.Create(system);
            system.StartTrainingCoordinator(settings);
            var proxy = system.StartTrainingCoordinatorProxy(settings);
            Akka.Cluster.Cluster.Get(system).Join(Akka.Cluster.Cluster.Get(system).SelfAddress);
            var probe = CreateTestProbe(system);
            proxy.Tell(new GetJobStatus(), probe.Ref);
            probe.ExpectMsg<JobStatus>(TimeSpan.FromSeconds(30));
            var first = probe.LastSender;

            probe.Watch(first);
            system.Stop(first);
            probe.ExpectTerminated(first, TimeSpan.FromSeconds(10));

            // Messages sent while the coordinator is down (its back-off, 1 s) are lost: ask until one answers.
            IActorRef? second = null;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (second is null && DateTime.UtcNow < deadline)
            {
                proxy.Tell(new GetJobStatus(), probe.Ref);
                if (probe.ReceiveOne(TimeSpan.FromSeconds(1)) is JobStatus) second = probe.LastSender;
            }
            Assert.True(second is not null, "the coordinator did not answer within 20 s of stopping: it was not started again");
            Assert.NotEqual(first, second);
        }
        finally
        {
            await system.Terminate();
            Directory.Delete(dir, true);
        }
    }
}
