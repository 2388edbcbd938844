// `graphactors bench allreduce`: one averaging round through the coordinator (star) against the trainers' ring, bytes and time.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Configuration;
using GraphActors.Cluster;
using GraphActors.Cluster.Coordination;
using GraphActors.Cluster.Hosting;
using GraphActors.Cluster.Trainers;
using GraphActors.Cluster.Wire;
using GraphActors.Contracts;
using GraphActors.Contracts.Serialization;
using static GraphActors.Contracts.Protocols.TrainingProtocol;

namespace GraphActors.Cli.Bench;

/// <summary>
/// N trainer ActorSystems of this process, each on its own port of 127.0.0.1 and talking through Akka.Remote (real
/// sockets, GraphActorsSerializer), average one vector per round, seed-weighted, both ways the cluster can:
/// <list type="bullet">
/// <item><b>star</b>: each trainer sends its vector in <c>ParametersReady</c> chunks to a hub on trainer 0's system
/// (where the coordinator singleton lives: the oldest trainer node), which sums them with the coordinator's
/// <see cref="ParameterAverager"/> and sends the mean back in <c>AveragedParameters</c> chunks;</item>
/// <item><b>ring</b>: each trainer runs <see cref="RingAllReduce"/> (the TrainerActor's code) with its ring
/// neighbours, and reports <c>RoundContribution</c> / <c>RoundReduced</c> to the hub, which answers
/// <c>RoundClosed</c> once every member holds the average, as the coordinator does.</item>
/// </list>
/// The messages are the cluster's own, so the bytes are what a job's round costs: every message a member or the hub
/// sends to another system is counted at its serialized size (<see cref="WireChunks.SerializedSize"/>: our payload;
/// Akka.Remote's envelope, about a hundred bytes a message, comes on top), and the totals are checked against
/// <see cref="WireTraffic"/>. Trainer 0 and the hub share a system, so their messages cross nothing, as in a cluster.
/// Round time: from telling every trainer to start to the last one holding the average (the ring: after RoundClosed),
/// median of the timed rounds after the warm-up.
/// </summary>
public static class AllReduceBenchmark
{
    public sealed record Options(int[] Trainers, int[] Floats, string[] Modes, int Rounds, int Warmup, string? Json);

    /// <summary>One case: per-trainer bytes of one round (the busiest trainer, hub excluded), the hub's node, times.</summary>
    public sealed record Row(string Mode, int Trainers, int Floats, int Rounds, double MedianMs, double MinMs, double MaxMs,
        long TrainerSent, long TrainerReceived, long HubNodeSent, long HubNodeReceived, long WireTrafficBytes, double MaxDifferenceFromStar)
    {
        public double VectorBytes => 4.0 * Floats;
        public double SentRatio => TrainerSent / VectorBytes;
        public double ReceivedRatio => TrainerReceived / VectorBytes;
        public double Bound => 2.0 * (Trainers - 1) / Trainers;
    }

    public static Command Create()
    {
        var trainers = new Option<string>("--trainers") { Description = "Trainer counts N, one ring (and one star) each.", DefaultValueFactory = _ => "2,4,8,16" };
        var floats = new Option<string>("--floats") { Description = "Vector sizes in floats (368,775: the Cora model).", DefaultValueFactory = _ => "368775,4000000" };
        var modes = new Option<string>("--modes") { Description = "star, ring or both.", DefaultValueFactory = _ => "star,ring" };
        var rounds = new Option<int>("--rounds") { Description = "Timed rounds per case.", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Rounds before the timed ones.", DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json") { Description = "Also write the rows as JSON to this file." };
        var cmd = new Command("allreduce", "Seed-weighted averaging of one vector among N trainers over Akka.Remote: the coordinator (star) against the ring.");
        foreach (var o in new Option[] { trainers, floats, modes, rounds, warmup, json }) cmd.Options.Add(o);
        cmd.SetAction(pr =>
        {
            var m = pr.GetValue(modes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (m.Length == 0 || m.Any(x => x is not ("star" or "ring")))
            {
                Console.Error.WriteLine($"--modes '{pr.GetValue(modes)}': use star, ring or both.");
                return 2;
            }
            var o = new Options(Ints(pr.GetValue(trainers)!, "--trainers"), Ints(pr.GetValue(floats)!, "--floats"), m, pr.GetValue(rounds),
                pr.GetValue(warmup), pr.GetValue(json));
            if (o.Trainers.Any(n => n < 2)) { Console.Error.WriteLine("--trainers: every count must be at least 2."); return 2; }
            var rows = Run(o, Console.Out);
            Console.WriteLine();
            Console.Write(Render(rows));
            if (o.Json is { } path) Graph.AtomicFile.WriteAllText(path, JsonSerializer.Serialize(rows, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return cmd;
    }

    private static int[] Ints(string text, string option) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.TryParse(s.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw new ArgumentException($"{option}: '{s}' is not a positive integer.")).ToArray();

    public static List<Row> Run(Options o, TextWriter log)
    {
        var load = LoadAverage();
        log.WriteLine($"{Environment.ProcessorCount} logical CPUs, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1 << 30)} GiB; load average at start {load.Text}");
        WarnIfBusy(load, log);
        var wire = WireSettings.Create(NodeConfig.Defaults);
        var chunkFloats = ChunkFloats(wire.ChunkSize);
        log.WriteLine($"chunks of ≤ {chunkFloats:N0} floats (graphactors.wire.chunk-size {wire.ChunkSize:N0} B), ring window {Math.Max(2, wire.ChunksInFlight)} chunks");
        var rows = new List<Row>();
        var wasCounting = WireTraffic.Enabled;
        WireTraffic.Enabled = true;
        try
        {
            foreach (var n in o.Trainers)
            {
                var systems = StartSystems(n, log);
                try
                {
                    foreach (var floats in o.Floats)
                    {
                        float[]? starMean = null;
                        foreach (var mode in o.Modes.OrderBy(m => m == "ring")) // the star first: the ring is compared with it
                        {
                            var (row, mean) = RunCase(systems, mode, floats, chunkFloats, wire.ChunksInFlight, o, starMean, log);
                            if (mode == "star") starMean = mean;
                            rows.Add(row);
                        }
                    }
                }
                finally
                {
                    Task.WaitAll(systems.Select(s => s.Terminate()).ToArray(), TimeSpan.FromSeconds(30));
                }
            }
        }
        finally
        {
            WireTraffic.Enabled = wasCounting;
        }
        var end = LoadAverage();
        log.WriteLine($"load average at end {end.Text}");
        WarnIfBusy(end, log);
        return rows;
    }

    private static ActorSystem[] StartSystems(int n, TextWriter log)
    {
        var config = ConfigurationFactory.ParseString("""
            akka.loglevel = WARNING
            akka.stdout-loglevel = WARNING
            akka.actor.provider = remote
            akka.actor.serialize-messages = off
            akka.remote.dot-netty.tcp.hostname = "127.0.0.1"
            akka.remote.dot-netty.tcp.port = 0
            # Rounds of hundreds of MiB on a small machine pause the remote watch's heartbeats: tolerate it.
            akka.remote.watch-failure-detector.acceptable-heartbeat-pause = 60s
            """).WithFallback(NodeConfig.Defaults);
        var clock = Stopwatch.StartNew();
        var systems = new ActorSystem[n];
        for (var i = 0; i < n; i++) systems[i] = ActorSystem.Create(Names.ActorSystem, config);
        log.WriteLine($"{n} trainer systems up on 127.0.0.1 in {clock.Elapsed.TotalSeconds:F1} s");
        return systems;
    }

    private static Address AddressOf(ActorSystem system) => ((ExtendedActorSystem)system).Provider.DefaultAddress;

    /// <summary>A ref to <paramref name="path"/> on <paramref name="target"/> as <paramref name="from"/> sees it (a remote ref unless the same system).</summary>
    private static IActorRef Resolve(ActorSystem from, ActorSystem target, string path) =>
        ((ExtendedActorSystem)from).Provider.ResolveActorRef($"{AddressOf(target)}/user/{path}");

    private static (Row Row, float[] Mean) RunCase(ActorSystem[] systems, string mode, int floats, int chunkFloats, int window, Options o,
        float[]? starMean, TextWriter log)
    {
        var n = systems.Length;
        var tag = $"{mode}-{n}-{floats}-{Guid.NewGuid():N}";
        var notes = Channel.CreateUnbounded<Note>();
        var seeds = Enumerable.Range(0, n).Select(i => 64L + 7 * i).ToArray(); // uneven, as pieces of a global batch are
        var members = new IActorRef[n];
        for (var i = 0; i < n; i++)
        {
            var (self, weight, vector) = (i, seeds[i], Vector(i, floats));
            var system = systems[i];
            // Refs to other systems resolve by path before their actor exists; a ref into one's own system only once it does.
            var ring = Enumerable.Range(0, n).Select(j => Resolve(system, systems[j], $"member-{tag}-{j}")).ToArray();
            members[i] = system.ActorOf(Props.Create(() => new Member(mode, self, ring, vector, weight, chunkFloats, window, notes.Writer)), $"member-{tag}-{i}");
        }
        var hubRefs = Enumerable.Range(0, n).Select(j => Resolve(systems[0], systems[j], $"member-{tag}-{j}")).ToArray();
        var hubActor = systems[0].ActorOf(Props.Create(() => new Hub(mode, hubRefs, seeds.Sum(), notes.Writer)), $"hub-{tag}");
        for (var i = 0; i < n; i++) members[i].Tell(new UseHub(Resolve(systems[i], systems[0], $"hub-{tag}")));

        var times = new List<double>();
        var sent = new long[n];
        var received = new long[n];
        long hubSent = 0, hubReceived = 0, traffic = 0;
        float[] mean = [];
        for (var r = 0; r < o.Warmup + o.Rounds; r++)
        {
            var before = WireTraffic.Snapshot();
            var start = Stopwatch.GetTimestamp();
            foreach (var m in members) m.Tell(new Go(r));
            var done = new Note?[n];
            Note? hubNote = null;
            long digest = 0;
            for (var got = 0; got < n + 1;)
            {
                var note = Next(notes.Reader, TimeSpan.FromMinutes(2), $"round {r} of {mode} with {n} trainers and {floats:N0} floats ({got} of {n + 1} reports)");
                if (note.Round != r) throw new InvalidOperationException($"a report of round {note.Round} while round {r} runs");
                if (note.Member < 0) hubNote = note;
                else
                {
                    done[note.Member] = note;
                    if (note.Member == 0) digest = note.Digest;
                    else if (note.Digest != digest && done[0] is not null)
                        throw new InvalidOperationException($"trainers 0 and {note.Member} hold different averages in round {r} ({mode})");
                }
                got++;
            }
            var last = done.Max(d => d!.Timestamp);
            if (done.Any(d => d!.Digest != done[0]!.Digest)) throw new InvalidOperationException($"the trainers hold different averages in round {r} ({mode})");
            var delta = WireTraffic.Since(before, WireTraffic.Snapshot());
            if (r < o.Warmup) continue;
            times.Add(Stopwatch.GetElapsedTime(start, last).TotalMilliseconds);
            for (var i = 0; i < n; i++) { sent[i] += done[i]!.BytesSent; received[i] += done[i]!.BytesReceived; }
            hubSent += hubNote!.BytesSent;
            hubReceived += hubNote.BytesReceived;
            traffic += delta.Values.Sum(c => c.BytesWritten);
        }
        mean = members[0].Ask<float[]>(new GetResult(), TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        foreach (var m in members) m.Tell(PoisonPill.Instance);
        hubActor.Tell(PoisonPill.Instance);

        var rounds = times.Count;
        // The busiest trainer other than the hub's node (trainer 0 shares the hub's system: its star traffic crosses nothing).
        long PerRound(long total) => total / rounds;
        var trainerSent = Enumerable.Range(1, n - 1).Max(i => PerRound(sent[i]));
        var trainerReceived = Enumerable.Range(1, n - 1).Max(i => PerRound(received[i]));
        var counted = sent.Sum() + hubSent;
        if (counted != traffic)
            log.WriteLine($"  note: members and hub counted {counted:N0} B sent, WireTraffic {traffic:N0} B written ({mode}, N = {n}, {floats:N0} floats)");
        var difference = 0.0;
        if (starMean is not null)
            for (var i = 0; i < mean.Length; i++) difference = Math.Max(difference, Math.Abs(mean[i] - starMean[i]));
        times.Sort();
        var row = new Row(mode, n, floats, rounds, times[rounds / 2], times[0], times[^1], trainerSent, trainerReceived,
            PerRound(hubSent + sent[0]), PerRound(hubReceived + received[0]), traffic / rounds, starMean is null ? double.NaN : difference);
        log.WriteLine($"  {mode,-4} N = {n,2}, {floats,9:N0} floats: median {row.MedianMs,8:F1} ms; per trainer sent {row.SentRatio:F3} × vector, " +
                      $"received {row.ReceivedRatio:F3} × (bound {row.Bound:F3}); hub's node sent {row.HubNodeSent / row.VectorBytes:F2} ×" +
                      (starMean is null ? "" : $"; max |ring − star| {difference:E2}"));
        return (row, mean);
    }

    /// <summary>Trainer <paramref name="member"/>'s vector: small values, different per trainer, the same every run.</summary>
    private static float[] Vector(int member, int floats)
    {
        var v = new float[floats];
        for (var k = 0; k < floats; k++) v[k] = ((k * 7 + member * 131) % 2003 - 1001) * 1e-5f;
        return v;
    }

    private sealed record Go(int Round);
    private sealed record UseHub(IActorRef Hub);
    private sealed record GetResult;

    /// <summary>What a member (or the hub, <c>Member = −1</c>) reports for a round: when it finished, its average's digest, its bytes.</summary>
    private sealed record Note(int Member, int Round, long Timestamp, long Digest, long BytesSent, long BytesReceived);

    private static Note Next(ChannelReader<Note> notes, TimeSpan timeout, string what)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return notes.ReadAsync(cts.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{what}: nothing within {timeout.TotalSeconds:0} s.");
        }
    }

    /// <summary>Serialized size of a message that leaves the sender's system (0 when it stays: nothing is serialized).</summary>
    private static long Remote(IActorRef target, IGraphActorsMessage message) =>
        target.Path.Address.HasLocalScope ? 0 : WireChunks.SerializedSize(message);

    /// <summary>A trainer: its vector and seeds, and either the star's chunks to the hub or its part of the ring.</summary>
    private sealed class Member : ReceiveActor
    {
        private const string Job = "bench";
        private IActorRef _hub = ActorRefs.Nobody;
        private int _round = -1;
        private long _sent, _received;
        private RingAllReduce? _collective;
        // Chunks of the next round from a neighbour told to start before this member: kept until its Go, as a trainer does.
        private readonly List<RingChunk> _early = [];
        private long _earlyBytes;
        private bool _reduced;
        private float[] _result = [];
        private bool[] _got = [];
        private int _missing;

        public Member(string mode, int self, IActorRef[] ring, float[] vector, long seeds, int chunkFloats, int window, ChannelWriter<Note> notes)
        {
            var n = ring.Length;
            var successor = ring[(self + 1) % n];
            var predecessor = ring[(self + n - 1) % n];
            var sends = new List<RingSend>();

            void Done() => notes.TryWrite(new Note(self, _round, Stopwatch.GetTimestamp(), VectorDigest(_result), _sent, _received));

            void Send(IActorRef to, IGraphActorsMessage m)
            {
                _sent += Remote(to, m);
                to.Tell(m, Self);
            }

            void Flush()
            {
                foreach (var (to, m) in sends) Send(to == RingPeer.Successor ? successor : predecessor, m);
                sends.Clear();
                if (_collective is { Complete: true } c && !_reduced)
                {
                    _reduced = true;
                    Send(_hub, new RoundReduced(Job, 0, 0, _round, c.TotalWeight, VectorDigest(c.Result)));
                }
            }

            Receive<UseHub>(m => _hub = m.Hub);
            Receive<Go>(go =>
            {
                (_round, _sent, _received, _earlyBytes) = (go.Round, 0, _earlyBytes, 0);
                if (mode == "star")
                {
                    var chunks = Math.Max(1, (vector.Length + chunkFloats - 1) / chunkFloats);
                    _result = new float[vector.Length];
                    _got = new bool[chunks];
                    _missing = chunks;
                    for (var i = 0; i < chunks; i++)
                    {
                        var start = i * chunkFloats;
                        var chunk = vector.AsSpan(start, Math.Min(chunkFloats, vector.Length - start)).ToArray();
                        Send(_hub, new ParametersReady(Job, 0, 0, _round, i, chunks, (int)seeds, 0, chunk));
                    }
                    return;
                }
                Send(_hub, new RoundContribution(Job, 0, 0, _round, (int)seeds, 0));
                _collective = new RingAllReduce(Job, 0, 0, _round, n, self, vector.Length, chunkFloats, window);
                _reduced = false;
                _result = _collective.Result;
                if (_collective.Contribute(vector, seeds, sends) is { } problem) throw new InvalidOperationException(problem);
                foreach (var m in _early)
                    if (_collective.Receive(m, sends) is { } early) throw new InvalidOperationException(early);
                _early.Clear();
                Flush();
            });
            Receive<RingChunk>(m =>
            {
                if (m.Round != _round)
                {
                    _earlyBytes += Remote(Sender, m); // counted in the round it belongs to
                    _early.Add(m);
                    return;
                }
                _received += Remote(Sender, m);
                if (_collective!.Receive(m, sends) is { } problem) throw new InvalidOperationException(problem);
                Flush();
            });
            Receive<RingAck>(m =>
            {
                _received += Remote(Sender, m);
                if (m.Round != _round) return; // the last acks of the round before: nothing left to send for it
                if (_collective!.Acked(m, sends) is { } problem) throw new InvalidOperationException(problem);
                Flush();
            });
            Receive<RoundClosed>(m =>
            {
                _received += Remote(Sender, m);
                Done();
            });
            Receive<AveragedParameters>(m =>
            {
                _received += Remote(Sender, m);
                if (m.Round != _round || _got[m.ChunkIndex]) throw new InvalidOperationException($"chunk {m.ChunkIndex} of round {m.Round} came twice or late");
                m.Chunk.CopyTo(_result.AsSpan(m.ChunkIndex * chunkFloats));
                _got[m.ChunkIndex] = true;
                if (--_missing == 0) Done();
            });
            Receive<GetResult>(_ => Sender.Tell(_result));
        }
    }

    /// <summary>The coordinator's part: the star's averaging (ParameterAverager), or the ring's round checks and RoundClosed.</summary>
    private sealed class Hub : ReceiveActor
    {
        private const string Job = "bench";
        private ParameterAverager _averager = new();
        private int _contributions, _reduced, _chunks;
        private long _digest, _sent, _received;

        public Hub(string mode, IActorRef[] members, long totalSeeds, ChannelWriter<Note> notes)
        {
            void Send(IActorRef to, IGraphActorsMessage m)
            {
                _sent += Remote(to, m);
                to.Tell(m, Self);
            }

            void Done(int round)
            {
                notes.TryWrite(new Note(-1, round, Stopwatch.GetTimestamp(), 0, _sent, _received));
                (_sent, _received, _contributions, _reduced, _chunks) = (0, 0, 0, 0, 0);
            }

            Receive<ParametersReady>(m =>
            {
                _received += Remote(Sender, m);
                if (_averager.Add(Sender.Path.ToString(), m.ChunkIndex, m.ChunkCount, m.Seeds, m.Chunk) is { } problem) throw new InvalidOperationException(problem);
                // ParameterAverager refuses a chunk twice, so N × chunks accepted is every trainer's whole vector.
                if (++_chunks < members.Length * m.ChunkCount) return;
                var (chunks, contributors) = _averager.Average();
                _averager = new ParameterAverager();
                foreach (var t in members)
                    for (var i = 0; i < chunks.Length; i++)
                        Send(t, new AveragedParameters(Job, 0, 0, m.Round, i, chunks.Length, contributors, (int)totalSeeds, chunks[i]));
                Done(m.Round);
            });
            Receive<RoundContribution>(m =>
            {
                _received += Remote(Sender, m);
                _contributions++;
            });
            Receive<RoundReduced>(m =>
            {
                _received += Remote(Sender, m);
                if (m.RingSeeds != totalSeeds) throw new InvalidOperationException($"the ring summed {m.RingSeeds} seeds, not {totalSeeds}");
                if (_reduced > 0 && m.Digest != _digest) throw new InvalidOperationException("two members hold different averages");
                _digest = m.Digest;
                if (++_reduced < members.Length) return;
                if (_contributions != members.Length) throw new InvalidOperationException($"{_contributions} of {members.Length} members started the round");
                foreach (var t in members) Send(t, new RoundClosed(Job, 0, 0, m.Round, members.Length, (int)totalSeeds));
                Done(m.Round);
            });
        }
    }

    // ---- output ----

    private static string Render(List<Row> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine("Per round, bytes of our payload (Akka.Remote's envelope, ~100 B a message, on top). Trainer: the busiest trainer outside the hub's node;");
        sb.AppendLine("hub node: trainer 0 and the coordinator's part (the star's averaging, or the ring's checks). × = multiples of the vector (4 B a float).");
        sb.AppendLine("| mode | N | floats | trainer sent | trainer received | × sent | × received | 2(N−1)/N | hub node sent | hub node received | median ms | min–max ms | max \\|ring − star\\| |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows.OrderBy(r => r.Floats).ThenBy(r => r.Trainers).ThenBy(r => r.Mode == "ring"))
            sb.AppendLine(string.Create(inv, $"| {r.Mode} | {r.Trainers} | {r.Floats:N0} | {r.TrainerSent:N0} | {r.TrainerReceived:N0} | {r.SentRatio:F3} | " +
                $"{r.ReceivedRatio:F3} | {r.Bound:F3} | {r.HubNodeSent:N0} | {r.HubNodeReceived:N0} | {r.MedianMs:F1} | {r.MinMs:F0}–{r.MaxMs:F0} | " +
                $"{(double.IsNaN(r.MaxDifferenceFromStar) ? "–" : r.MaxDifferenceFromStar.ToString("E1", inv))} |"));
        return sb.ToString();
    }

    private readonly record struct Load(string Text, double OneMinute);

    private static Load LoadAverage()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return new Load(string.Join(" ", parts.Take(3)), double.Parse(parts[0], CultureInfo.InvariantCulture));
        }
        catch (IOException)
        {
            return new Load("n/a", 0);
        }
    }

    private static void WarnIfBusy(Load load, TextWriter log)
    {
        if (load.OneMinute > 1.5)
            log.WriteLine($"WARNING: load average {load.OneMinute:F2} is above 1.5: other work is running, round times are provisional (bytes are not affected).");
    }
}
