// The graph, CGDF copy, model and offline reference every serving test shares.
using GraphActors.Contracts;
using GraphActors.Graph;
using GraphActors.Graph.Cgdf;
using GraphActors.Models;
using GraphActors.Sampling;
using static TorchSharp.torch;

namespace GraphActors.Serving.Tests;

/// <summary>
/// Users (4 features, 3 classes) and items (3 features); clicks user→item (undirected, so clicks_reverse too) and
/// follows user→user. Business ids: users 1000+i, items 5000+i. The same nodes are written as a CGDF directory.
/// </summary>
public sealed class TestWorld : IDisposable
{
    public const int Users = 60, Items = 40;
    public static readonly RelationKey Clicks = new("user", "clicks", "item");
    public static readonly RelationKey ClicksReverse = new("item", "clicks_reverse", "user");
    public static readonly RelationKey Follows = new("user", "follows", "user");

    public TestWorld()
    {
        Root = Path.Combine(Path.GetTempPath(), "ga-serving-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Root);
        var rng = new Random(42);
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Floats(4), labeled: true);
        var items = b.AddNodeType("item", AttributeSchema.Floats(3));
        UserFeatures = new float[Users * 4];
        ItemFeatures = new float[Items * 3];
        for (var i = 0; i < Users * 4; i++) UserFeatures[i] = (float)(rng.NextDouble() * 2 - 1);
        for (var i = 0; i < Items * 3; i++) ItemFeatures[i] = (float)(rng.NextDouble() * 2 - 1);
        for (var i = 0; i < Users; i++) users.TryAdd(1000 + i, UserFeatures.AsSpan(i * 4, 4), i % 3, out _);
        for (var i = 0; i < Items; i++) items.TryAdd(5000 + i, ItemFeatures.AsSpan(i * 3, 3), -1, out _);
        var clicks = b.AddEdgeType(new CanonicalEdgeType("user", "clicks", "item"), AttributeSchema.Empty, directed: false);
        for (var e = 0; e < 300; e++) clicks.Add(rng.Next(Users), rng.Next(Items));
        var follows = b.AddEdgeType(new CanonicalEdgeType("user", "follows", "user"), AttributeSchema.Empty);
        for (var e = 0; e < 200; e++) follows.Add(rng.Next(Users), rng.Next(Users));
        Graph = b.Build();
        Store = new HeteroGraphStore(Graph);

        CgdfDir = Path.Combine(Root, "cgdf");
        var w = new CgdfWriter(CgdfDir, "test", null, rowGroupRows: 16);
        using (var u = w.BeginNodeType("user", 4, hasMasks: false))
        {
            for (var i = 0; i < Users; i++) u.Add(1000 + i, UserFeatures.AsSpan(i * 4, 4), i % 3);
            u.Complete();
        }
        using (var it = w.BeginNodeType("item", 3, hasMasks: false))
        {
            for (var i = 0; i < Items; i++) it.Add(5000 + i, ItemFeatures.AsSpan(i * 3, 3), -1);
            it.Complete();
        }
        w.Complete();

        manual_seed(1);
        using (var model = ModelFactory.Create(Config(3)))
        {
            StatePath = Path.Combine(Root, "sage.state");
            ModelState.Save(model, StatePath);
        }
        manual_seed(2);
        using (var link = ModelFactory.Create(Config(8)))
        {
            LinkStatePath = Path.Combine(Root, "link.state");
            ModelState.Save(link, LinkStatePath);
        }
    }

    public string Root { get; }
    public string CgdfDir { get; }
    public string StatePath { get; }
    public string LinkStatePath { get; }
    public HeteroGraph Graph { get; }
    public HeteroGraphStore Store { get; }
    public float[] UserFeatures { get; }
    public float[] ItemFeatures { get; }

    public static ModelConfig Config(int outDim) => new()
    {
        ModelType = ModelType.Sage,
        InDims = new Dictionary<string, int> { ["user"] = 4, ["item"] = 3 },
        Relations = [Clicks, ClicksReverse, Follows],
        HiddenChannels = 8,
        NumLayers = 2,
        OutDim = outDim,
        Dropout = 0.3, // must not matter: serving runs in eval mode
    };

    public InProcessModelLoader Loader() => new InProcessModelLoader()
        .Add("test://sage", Config(3), StatePath, new ServableModelInfo { Fanouts = [5, 5], Version = "1.0" })
        .Add("test://sage-full", Config(3), StatePath, new ServableModelInfo { Version = "2.0" })
        .Add("test://link", Config(8), LinkStatePath, new ServableModelInfo { Task = ServingTask.LinkPrediction, Fanouts = [4, 4] });

    /// <summary>The model run offline over the whole graph (one full-graph block per layer): softmax rows per user.</summary>
    public float[][] OfflineUserProbabilities() => Offline(StatePath, 3, "user", softmax: true);

    public float[][] Offline(string statePath, int outDim, string type, bool softmax)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var model = ModelFactory.Create(Config(outDim));
        ModelState.Load(model, statePath);
        model.eval();
        var edges = new Dictionary<RelationKey, RelationEdges>();
        foreach (var r in Config(outDim).Relations)
        {
            var list = Store.GetEdgesAsync(new CanonicalEdgeType(r.Src, r.Relation, r.Dst)).AsTask().Result;
            edges[r] = RelationEdges.FromInt32(list.Src, list.Dst);
        }
        using var block = GraphActors.Models.Block.FullGraph(new Dictionary<string, long> { ["user"] = Users, ["item"] = Items }, edges);
        var features = new Dictionary<string, Tensor>
        {
            ["user"] = tensor(UserFeatures, [Users, 4]),
            ["item"] = tensor(ItemFeatures, [Items, 3]),
        };
        var h = model.forward([block, block], features)[type];
        if (softmax) h = h.softmax(1);
        var data = h.contiguous().data<float>().ToArray();
        var n = (int)h.shape[0];
        return Enumerable.Range(0, n).Select(i => data.AsSpan(i * outDim, outDim).ToArray()).ToArray();
    }

    /// <summary>
    /// Input × gradient of user <paramref name="user"/>'s logit of class <paramref name="cls"/> on the whole graph (the
    /// node classification model): per user and per item, the attribution of each input feature.
    /// </summary>
    public (float[][] Users, float[][] Items) OfflineInputXGradient(int user, int cls)
    {
        using var scope = NewDisposeScope();
        using var model = ModelFactory.Create(Config(3));
        ModelState.Load(model, StatePath);
        model.eval();
        var edges = new Dictionary<RelationKey, RelationEdges>();
        foreach (var r in Config(3).Relations)
        {
            var list = Store.GetEdgesAsync(new CanonicalEdgeType(r.Src, r.Relation, r.Dst)).AsTask().Result;
            edges[r] = RelationEdges.FromInt32(list.Src, list.Dst);
        }
        using var block = GraphActors.Models.Block.FullGraph(new Dictionary<string, long> { ["user"] = Users, ["item"] = Items }, edges);
        var u = tensor(UserFeatures, [Users, 4]).requires_grad_(true);
        var it = tensor(ItemFeatures, [Items, 3]).requires_grad_(true);
        var h = model.forward([block, block], new Dictionary<string, Tensor> { ["user"] = u, ["item"] = it })["user"];
        h[user, cls].backward();
        float[][] Rows(Tensor x, int n, int dim)
        {
            var a = (x.grad! * x.detach()).contiguous().data<float>().ToArray();
            return Enumerable.Range(0, n).Select(i => a.AsSpan(i * dim, dim).ToArray()).ToArray();
        }
        return (Rows(u, Users, 4), Rows(it, Items, 3));
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}
