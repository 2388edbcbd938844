// A GraphLearn user's distributed program translated call by call; the process tests start one process per task.
//
// The Python it translates (GraphLearn's worker mode with the file-system tracker, and server mode with client_count):
//
//   g = gl.Graph().node(nodes, "user", gl.Decoder(labeled=True, attr_types=["float"] * 4)) \
//                 .edge(edges, ("user", "user", "follow"), gl.Decoder(), directed=False)
//   g.init(task_index=i, task_count=n, tracker=dir)                                   # worker
//   g.init(cluster={"server": servers, "client_count": k}, job_name="server", task_index=i); g.wait_for_close()
//   g.init(cluster={"server": servers, "client_count": k}, job_name="client", task_index=i)
//   ... look nodes up through the graph ...
//   ds = gl.Dataset(g.V("user").batch(64).shuffle(traverse=True).alias("u").outV("follow").sample(5).by("random").alias("f").values())
//   while True: try: ds.next() except gl.OutOfRangeError: break                       # workers and clients: one epoch of their share
//   g.close()
//
// usage: worker TASK COUNT TRACKER STORE NODES EDGES OUT
//        server TASK SERVERS CLIENT_COUNT STORE NODES EDGES OUT      (SERVERS: host:port,host:port)
//        client TASK SERVERS CLIENT_COUNT STORE OUT
// Each task writes one line to OUT when its lookups are done ("ok …"), a server a second line once its clients closed;
// a worker or client writes the users its GSL epoch walked to OUT.gsl, one per line.
using System.Globalization;
using GraphActors.Cluster.GraphLearn;
using GraphActors.Contracts;
using GraphActors.Graph.GraphLearn;
using GraphActors.Sampling;

var inv = CultureInfo.InvariantCulture;
if (args.Length < 6)
{
    Console.Error.WriteLine("usage: worker TASK COUNT TRACKER STORE NODES EDGES OUT | server TASK SERVERS CLIENT_COUNT STORE NODES EDGES OUT | client TASK SERVERS CLIENT_COUNT STORE OUT");
    return 2;
}
var timeout = TimeSpan.FromMinutes(2);
const string quiet = "akka.loglevel = WARNING";
Graph Declare(string nodes, string edges) => new Graph()
    .Node(nodes, "user", new Decoder(labeled: true, attrTypes: ["float", "float", "float", "float"]))
    .Edge(edges, ("user", "user", "follow"), new Decoder(), directed: false);

var task = int.Parse(args[1], inv);
ClusterGraph g;
string output;
switch (args[0])
{
    case "worker":
        output = args[7];
        g = await Declare(args[5], args[6]).InitAsync(
            WorkerMode.WithTracker(task, int.Parse(args[2], inv), args[3], args[4]) with { Hocon = quiet, Timeout = timeout }, Console.Out);
        break;
    case "server":
        output = args[7];
        g = await Declare(args[5], args[6]).InitAsync(
            ServerMode.WithClientCount(args[2].Split(','), int.Parse(args[3], inv), "server", task, args[4]) with { Hocon = quiet, Timeout = timeout }, Console.Out);
        break;
    case "client":
        output = args[5];
        g = await new Graph().InitAsync(
            ServerMode.WithClientCount(args[2].Split(','), int.Parse(args[3], inv), "client", task, args[4]) with { Hocon = quiet, Timeout = timeout }, Console.Out);
        break;
    default:
        Console.Error.WriteLine($"'{args[0]}' is not worker, server or client");
        return 2;
}

// Every task looks up the same users through the cluster (whichever partition holds them) and reads their labels.
long[] users = [1000, 1001, 1002, 1599];
var dense = new int[users.Length];
await g.Store.LookupIdsAsync(new NodeType("user"), users, dense);
var labels = new int[users.Length];
await g.Store.GatherLabelsAsync(new NodeType("user"), dense, labels);
if (g.Role != "server")
{
    // One epoch of this task's share, to GraphLearn's OutOfRangeError; every sampled follow is checked to be one.
    using var ds = g.V("user").Batch(64).Shuffle(traverse: true).Alias("u").OutV("follow").Sample(5).By("random").Alias("f").Values();
    var walked = new List<long>();
    while (true)
    {
        GslBatch batch;
        try { batch = ds.Next(); }
        catch (OutOfRangeException) { break; }
        var u = batch.Nodes("u");
        var f = batch.Nodes("f");
        if (f.Count != u.Count * 5 || u.FloatAttrs.Length != u.Count * 4)
            throw new InvalidOperationException($"batch {batch.Index}: {u.Count} users, {f.Count} follows, {u.FloatAttrs.Length} features");
        walked.AddRange(u.Ids);
    }
    File.WriteAllLines(output + ".gsl", walked.Select(id => id.ToString(inv)));
}
var members = Akka.Cluster.Cluster.Get(g.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up);
File.AppendAllText(output, string.Create(inv,
    $"ok {g.Role} {task} {g.Address.Host}:{g.Address.Port} up={members} labels={string.Join(',', labels)}\n"));

if (g.Role == "worker")
{
    // Every worker is done reading before any leaves (a leaving worker hands its partition over): a barrier on the
    // tracker directory, as a training loop's last step would be.
    var tracker = args[3];
    var count = int.Parse(args[2], inv);
    File.WriteAllText(Path.Combine(tracker, $"done-{task}"), "");
    var deadline = DateTime.UtcNow + timeout;
    while (Enumerable.Range(0, count).Any(t => !File.Exists(Path.Combine(tracker, $"done-{t}"))))
    {
        if (DateTime.UtcNow > deadline) throw new TimeoutException($"not every worker finished within {timeout}");
        await Task.Delay(100);
    }
}
if (g.Role == "server")
{
    await g.WaitForCloseAsync().WaitAsync(timeout);
    File.AppendAllText(output, "closed\n");
}
await g.CloseAsync();
return 0;
