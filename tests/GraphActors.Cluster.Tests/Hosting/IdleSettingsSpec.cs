// The settings that keep an idle node quiet (docs/CLUSTER.md, "An idle node") are in effect in a node built from base.hocon.
using Akka.Actor;
using Akka.Remote;
using GraphActors.Cluster.Hosting;

namespace GraphActors.Cluster.Tests.Hosting;

public sealed class IdleSettingsSpec
{
    [Fact]
    public async Task A_started_node_ticks_its_scheduler_every_100ms_and_checks_acks_and_keep_alives_rarely()
    {
        var config = NodeConfig.Load(null, new Dictionary<string, string?>());
        var system = ActorSystem.Create(Names.ActorSystem, config);
        try
        {
            Assert.IsType<HashedWheelTimerScheduler>(system.Scheduler);
            Assert.Equal(TimeSpan.FromMilliseconds(100), system.Settings.Config.GetTimeSpan("akka.scheduler.tick-duration"));
            var remote = ((RemoteActorRefProvider)((ExtendedActorSystem)system).Provider).RemoteSettings;
            Assert.Equal(TimeSpan.FromSeconds(2), remote.SysMsgAckTimeout);
            Assert.True(remote.SysResendTimeout > remote.SysMsgAckTimeout, "a resend would race an acknowledgement waiting for its piggyback");
            Assert.Equal(TimeSpan.FromSeconds(10), system.Settings.Config.GetTimeSpan("akka.remote.transport-failure-detector.heartbeat-interval"));
            // The cluster's own failure detection stays Akka's on a node of its own (deploy changes it for shared hosts).
            var cluster = Akka.Cluster.Cluster.Get(system).Settings;
            Assert.Equal(TimeSpan.FromSeconds(1), cluster.HeartbeatInterval);
        }
        finally
        {
            await system.Terminate();
        }
    }
}
