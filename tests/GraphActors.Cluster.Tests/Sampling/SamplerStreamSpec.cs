using Akka.Actor;
using Akka.TestKit.Xunit2;
using GraphActors.Cluster.Partitions;
using GraphActors.Cluster.Sampling;
using GraphActors.Cluster.Tests.Support;
using GraphActors.Contracts.Protocols;
using GraphActors.Sampling;
using Akka.Streams;
using static GraphActors.Contracts.Protocols.SamplingProtocol;

namespace GraphActors.Cluster.Tests.Sampling;

/// <summary>
/// The sampler on node A (partition + trainer) streams an epoch through a SourceRef to a deliberately slow consumer on
/// node B (trainer), over real Akka.Remote on 127.0.0.1.
/// </summary>
[Collection(MultiNodeCollection.Name)]
public class SamplerStreamSpec : TestKit
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    private static readonly int PortA = TestNodes.FreePort();
    private const int RefBuffer = 4;
    private readonly ActorSystem _b;
    private readonly Counters _counters = new();
    private readonly SamplerSettings _settings;
    private readonly RemoteGraphStore _store;

    /// <summary>Batches started by the sampler minus batches acked by the consumer, and the largest value seen.</summary>
    private sealed class Counters : ISamplerObserver
    {
        private long _started, _acked, _maxInFlight, _ready;
        public long MaxInFlight => Interlocked.Read(ref _maxInFlight);
        public long Started => Interlocked.Read(ref _started);
        public long Ready => Interlocked.Read(ref _ready);

        public void BatchStarted(int epoch, int index)
        {
            var inFlight = Interlocked.Increment(ref _started) - Interlocked.Read(ref _acked);
            long max;
            while (inFlight > (max = Interlocked.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, inFlight, max) != max) { }
        }

        public void BatchReady(int epoch, int index, long payloadBytes) => Interlocked.Increment(ref _ready);
        public void Acked() => Interlocked.Increment(ref _acked);
    }

    /// <summary>The trainer stand-in: asks for an epoch, runs the SourceRef into the ack sink, acks each batch after a delay.</summary>
    private sealed class SlowConsumer : ReceiveActor, IWithTimers
    {
        private readonly List<int> _received = [];

        public SlowConsumer(ActorSelection sampler, SampleEpoch request, TimeSpan delay, Counters counters, IActorRef report)
        {
            IActorRef? sink = null;
            Receive<EpochStreamReady>(r => r.Stream.RunInto(Self, r.RequestId, Context.Materializer()));
            Receive<EpochRejected>(r => report.Tell(r));
            Receive<StreamInit>(_ => { sink = Sender; Sender.Tell(StreamAck.Instance); });
            Receive<MiniBatchData>(b =>
            {
                _received.Add(b.Index);
                sink = Sender;
                Timers.StartSingleTimer("ack", "ack", delay);
            });
            Receive<string>(_ => { counters.Acked(); sink!.Tell(StreamAck.Instance); });
            Receive<StreamCompleted>(_ => report.Tell(_received.ToArray()));
            Receive<StreamFailed>(f => report.Tell(f));
            sampler.Tell(request);
        }

        public ITimerScheduler Timers { get; set; } = null!;
    }

    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public SamplerStreamSpec(Xunit.Abstractions.ITestOutputHelper output)
        : base(TestNodes.Node(PortA, [PortA], "partition, trainer", TestStore.TwoParts), "graphactors", output)
    {
        _output = output;
        _b = ActorSystem.Create(Names.ActorSystem, TestNodes.Node(TestNodes.FreePort(), [PortA], "trainer", null,
            $"akka.stream.materializer.stream-ref.buffer-capacity = {RefBuffer}"));
        Task.WhenAll(TestNodes.AwaitUp(Sys, 2, Wait), TestNodes.AwaitUp(_b, 2, Wait)).GetAwaiter().GetResult();
        Sys.StartPartitionSharding(PartitionSettings.Create(Sys));
        _settings = SamplerSettings.Create(Sys).WithParallelism(2).WithPrefetch(3).WithSubscriptionTimeout(TimeSpan.FromSeconds(10));
        _store = RemoteGraphStore.FromStore(Sys, TestStore.TwoParts, TimeSpan.FromSeconds(5));
        Sys.StartSampler(_store, _settings, _counters);
    }

    private ActorSelection Sampler => _b.ActorSelection(new RootActorPath(Akka.Cluster.Cluster.Get(Sys).SelfAddress) / "user" / Names.Sampler);

    [Fact]
    public void A_slow_consumer_on_the_other_node_holds_the_sampler_to_the_in_flight_bound_and_gets_every_batch_in_order()
    {
        var seeds = Enumerable.Range(0, 200).ToArray();
        var request = new SampleEpoch(77, 1, "user", seeds, 4, [5, 5], NeighborStrategy.RandomWithoutReplacement, false, 11);
        var report = CreateTestProbe(_b);
        _b.ActorOf(Props.Create(() => new SlowConsumer(Sampler, request, TimeSpan.FromMilliseconds(25), _counters, report.Ref)));

        var received = report.ExpectMsg<int[]>(TimeSpan.FromSeconds(12));

        var bound = _settings.InFlightBound(RefBuffer); // 2×2 + 3 + 4 + 2 = 13
        _output.WriteLine($"max in flight {_counters.MaxInFlight} (bound {bound}) over 50 batches, consumer acking every 25 ms");
        Assert.Equal(Enumerable.Range(0, 50), received); // 200 seeds / 4: all of them, in order, none lost
        Assert.Equal(50, _counters.Started);
        Assert.True(_counters.MaxInFlight <= bound, $"{_counters.MaxInFlight} batches were in flight; the bound is {bound}");
        // The pipeline does run ahead of the consumer (prefetch works), it just never runs further than the bound.
        Assert.True(_counters.MaxInFlight > _settings.Prefetch, $"only {_counters.MaxInFlight} batches were ever in flight");

        // The sampling node's metrics saw the same: 50 batches and their bytes, nothing left in flight, and its
        // partitions' requests (neighbours and features, some answered to the other node over the wire: none here,
        // the sampler is on the partitions' node).
        var metrics = GraphActors.Cluster.Metrics.NodeMetrics.Get(Sys);
        Assert.Equal(50, metrics.SamplerBatches.Value);
        Assert.True(metrics.SamplerBatchBytes.Value > 0);
        Assert.Equal(0, metrics.SamplerInFlight.Value);
        Assert.Equal(50, metrics.SamplerBatchSeconds.Count);
        Assert.True(metrics.PartitionRequests.WithLabels("0", "neighbors").Value + metrics.PartitionRequests.WithLabels("1", "neighbors").Value > 0);
        Assert.True(metrics.PartitionRequests.WithLabels("0", "features").Value + metrics.PartitionRequests.WithLabels("1", "features").Value > 0);
    }

    [Fact]
    public async Task The_streamed_batches_are_the_ones_the_local_loader_samples_for_the_same_seeds()
    {
        var seeds = Enumerable.Range(0, 40).ToArray();
        var request = new SampleEpoch(78, 2, "user", seeds, 16, [-1, -1], NeighborStrategy.Full, false, 3);
        var probe = CreateTestProbe(_b);
        Sampler.Tell(request, probe.Ref);
        var ready = probe.ExpectMsg<EpochStreamReady>(Wait);
        Assert.Equal(3, ready.Batches);
        var run = ready.Stream.Source.Via(MiniBatchWire.Whole(_b)).RunWith(Akka.Streams.Dsl.Sink.Seq<MiniBatchData>(), _b.Materializer());
        var streamed = await run.WaitAsync(Wait);

        using var local = new PartitionedGraphStore(Graph.Storage.PartitionStore.Open(TestStore.TwoParts));
        var sampler = new BlockSampler(local, new BlockSamplerOptions([-1, -1]));
        var order = EpochPlan.Shuffle(seeds, 3, 2);
        Assert.Equal(3, streamed.Count);
        for (var b = 0; b < 3; b++)
        {
            var expected = await sampler.SampleAsync(new Dictionary<Contracts.NodeType, int[]> { ["user"] = EpochPlan.Batch(order, 16, b).ToArray() },
                EpochPlan.BatchSeed(3, 2, b));
            Serialization.SampleMessages.AssertSame(expected.ToData(78, 2, b), streamed[b]);
        }
    }

    [Fact]
    public void An_invalid_epoch_is_rejected_with_the_problem()
    {
        var probe = CreateTestProbe(_b);
        Sampler.Tell(new SampleEpoch(79, 0, "user", [1, 1], 4, [5], NeighborStrategy.Full, false, 0), probe.Ref);
        var rejected = probe.ExpectMsg<EpochRejected>(Wait);
        Assert.Contains("appears twice", rejected.Problem);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _store.Dispose();
            CoordinatedShutdown.Get(_b).Run(CoordinatedShutdown.ClrExitReason.Instance).Wait(TimeSpan.FromSeconds(15));
        }
        base.Dispose(disposing);
    }
}
