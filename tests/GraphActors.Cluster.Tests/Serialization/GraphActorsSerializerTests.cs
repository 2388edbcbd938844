using Akka.Configuration;
using Akka.Serialization;
using GraphActors.Cluster.Hosting;
using GraphActors.Contracts;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.CommandProtocol;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cluster.Tests.Serialization;

public class GraphActorsSerializerTests() : Akka.TestKit.Xunit2.TestKit(
    ConfigurationFactory.ParseString("akka.actor.serialize-messages = on").WithFallback(GraphActorsSerialization.Config))
{
    public static TheoryData<int> Indexes()
    {
        var d = new TheoryData<int>();
        for (var i = 0; i < SampleMessages.All.Count; i++) d.Add(i);
        return d;
    }

    [Theory]
    [MemberData(nameof(Indexes))]
    public void Every_message_round_trips_to_equal_properties_and_identical_bytes(int index)
    {
        var message = SampleMessages.All[index];
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var manifest = serializer.Manifest(message);
        var back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
        SampleMessages.AssertSame(message, back);
        if (message is Contracts.Protocols.SamplingProtocol.EpochStreamReady)
        {
            // An embedded actor ref resolves in the reading system (the sample's Nobody becomes this system's
            // deadLetters), so the bytes are stable from the first round trip on.
            bytes = serializer.ToBinary(back);
            back = Sys.Serialization.Deserialize(bytes, serializer.Identifier, manifest);
        }
        Assert.Equal(bytes, serializer.ToBinary(back));
    }

    [Theory]
    [MemberData(nameof(Indexes))]
    public void Every_message_survives_a_tell_with_serialize_messages_on(int index)
    {
        var message = SampleMessages.All[index];
        TestActor.Tell(message, Akka.Actor.ActorRefs.NoSender);
        var received = ExpectMsg<object>(TimeSpan.FromSeconds(3));
        // serialize-messages delivers a deserialized copy, not the instance sent.
        Assert.NotSame(message, received);
        SampleMessages.AssertSame(message, received);
    }

    [Fact]
    public void Every_message_type_of_the_contracts_is_bound_to_our_serializer_and_has_a_sample()
    {
        var types = typeof(IGraphActorsMessage).Assembly.GetTypes()
            .Where(t => typeof(IGraphActorsMessage).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
            .ToArray();
        Assert.NotEmpty(types);
        foreach (var t in types)
        {
            var s = Sys.Serialization.FindSerializerForType(t);
            Assert.True(s is GraphActorsSerializer, $"{t.FullName} is bound to {s.GetType().FullName}, not GraphActorsSerializer.");
            Assert.Equal(GraphActorsSerializer.SerializerId, s.Identifier);
            Assert.Contains(SampleMessages.All, m => m.GetType() == t);
        }
    }

    [Fact]
    public void A_token_carries_only_commands_that_change_the_cluster_so_a_read_only_query_cannot_be_dressed_up_as_one()
    {
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(new WithToken("t", new StopJob("j")));
        var e = Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.ToBinary(new WithToken("t", new GetClusterState())));
        Assert.Contains("GetClusterState", e.Message);
        Assert.All(new object[] { new LeaveMember("a"), new DownMember("a"), new StartJob("j", SampleMessages.Config), new StopJob("j"), new ResumeJob("j"),
            new ExportModel("", "", ExportChoice.Best, -1, "/o", 1), new DownUnreachable(), new JoinCluster("a"),
            new RegisterServedModel("u", "n", "", -1, "", 1), new UnregisterServedModel("n", "", "", 1), new ScaleServedModel("n", "", 1, 1, "", 1),
            new Contracts.Protocols.StoreProtocol.ReloadStore("/s", 1) },
            m => Assert.True(ChangesCluster(m), m.GetType().Name));
        Assert.All(new object[] { new GetClusterState(), new GetPartitions(1), new GetJobStatus(), new ListCheckpoints("", "", 1), new SubscribeMembership(),
            new GetServedModels(1) },
            m => Assert.False(ChangesCluster(m), m.GetType().Name));
    }

    [Fact]
    public void The_node_defaults_bind_the_serializer_too()
    {
        using var system = Akka.Actor.ActorSystem.Create("binding", ConfigurationFactory.ParseString("akka.actor.provider = local")
            .WithFallback(NodeConfig.Defaults));
        Assert.IsType<GraphActorsSerializer>(system.Serialization.FindSerializerFor(SampleMessages.All[0]));
    }

    [Fact]
    public void A_truncated_payload_fails_with_a_message_naming_the_manifest()
    {
        var message = SampleMessages.All[2];
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(message);
        var bytes = serializer.ToBinary(message);
        var e = Assert.ThrowsAny<System.Runtime.Serialization.SerializationException>(
            () => serializer.FromBinary(bytes[..^3], serializer.Manifest(message)));
        Assert.Contains(serializer.Manifest(message), e.Message);
    }

    [Fact]
    public void A_coordinator_snapshot_journalled_before_the_step_counts_existed_still_reads_with_zero_steps()
    {
        var current = new Contracts.Protocols.TrainingProtocol.CoordinatorSnapshot("job-1", null, Contracts.Protocols.JobState.Running, 3, 2, 1,
            0.5f, ["val_acc"], [0.7f], 0.7f, 2, "/ck/e2", "beef", "", 240, 80);
        var serializer = (SerializerWithStringManifest)Sys.Serialization.FindSerializerFor(current);
        // The seed accounting and evaluation failures came next: 8 (seeds per epoch) + 4 (no per-epoch counts) + 4 + 4 (empty
        // string); then the epoch history: 4 (no epochs); the last attempt last: 4.
        var bytes = serializer.ToBinary(current);
        var older = bytes[..^(12 + 20 + 4 + 4)]; // the oldest form ended with the reason
        var back = (Contracts.Protocols.TrainingProtocol.CoordinatorSnapshot)serializer.FromBinary(older, serializer.Manifest(current));
        Assert.Equal(current with { CompletedSteps = 0, PlannedSteps = 0 }, back with { MetricNames = current.MetricNames, MetricValues = current.MetricValues });
        Assert.Equal(current.MetricValues, back.MetricValues);
        // The next form ended with the step counts: it reads with no seed accounting and no failed evaluations.
        var withSteps = (Contracts.Protocols.TrainingProtocol.CoordinatorSnapshot)serializer.FromBinary(bytes[..^28], serializer.Manifest(current));
        Assert.Equal((240L, 80, 0L, 0, ""), (withSteps.CompletedSteps, withSteps.PlannedSteps, withSteps.SeedsPerEpoch, withSteps.FailedEvaluations,
            withSteps.EvaluationError));
        Assert.Null(withSteps.SeedsTrained);
        // The form before the epoch history reads with none.
        var withoutHistory = (Contracts.Protocols.TrainingProtocol.CoordinatorSnapshot)serializer.FromBinary(bytes[..^8], serializer.Manifest(current));
        Assert.Null(withoutHistory.History);
        Assert.Equal(current.EvaluationError, withoutHistory.EvaluationError);
        // The form before the last attempt reads with none (-1): a coordinator recovered from it re-plans the epoch at 1.
        var withoutAttempt = (Contracts.Protocols.TrainingProtocol.CoordinatorSnapshot)serializer.FromBinary(bytes[..^4], serializer.Manifest(current));
        Assert.Equal(-1, withoutAttempt.LastAttempt);
        Assert.Equal(current, withoutAttempt with { MetricNames = current.MetricNames, MetricValues = current.MetricValues });
    }

    [Fact]
    public void Arrays_are_written_as_a_count_and_raw_little_endian_bytes()
    {
        var message = new Contracts.Protocols.PartitionProtocol.DegreesResult(1, 2, [1, 256]);
        var bytes = Sys.Serialization.FindSerializerFor(message).ToBinary(message);
        // version(1) + request id(8) + partition(4) + count(4) + 2 × 4 bytes.
        Assert.Equal(1 + 8 + 4 + 4 + 8, bytes.Length);
        Assert.Equal(new byte[] { 2, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0 }, bytes[^12..]);
    }
}
