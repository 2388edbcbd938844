using GraphActors.Graph.GraphLearn;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Storage;
using GraphActors.Graph.Tests.Partitioning;

namespace GraphActors.Graph.Tests;

/// <summary>
/// What worker and server mode write to the partition store from a GraphLearn graph: the mask sources become the
/// store's train/val/test sets, every column goes with the nodes and edges, and mask ids that are not nodes are named,
/// never dropped silently.
/// </summary>
public sealed class GraphLearnPartitionSourceTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Mask_sources_become_the_store_sets_and_mask_ids_that_are_not_nodes_are_named()
    {
        var items = _files.Write("items.txt", "id:int64\tweight:float\tlabel:int32\tattributes:string",
            "1\t0.5\t0\t7:a:0.1", "2\t0.5\t1\t8:b:0.2", "3\t0.5\t0\t9:c:0.3", "4\t0.5\t1\t6:d:0.4", "5\t0.5\t0\t5:e:0.5");
        var train = _files.Write("train.txt", "id:int64", "3", "1", "42");
        var val = _files.Write("val.txt", "id:int64", "4");
        var test = _files.Write("test.txt", "id:int64", "2");
        var edges = _files.Write("i2i.txt", "src_id:int64\tdst_id:int64\tlabel:int32", "1\t2\t1", "2\t3\t0", "4\t5\t1");
        var g = new GraphLearn.Graph()
            .Node(items, "item", new Decoder(weighted: true, labeled: true, attrTypes: ["int", "string", "float"]))
            .Node(train, "item", new Decoder(), Mask.Train)
            .Node(val, "item", new Decoder(), Mask.Val)
            .Node(test, "item", new Decoder(), Mask.Test)
            .Edge(edges, ("item", "item", "i2i"), new Decoder(labeled: true));
        g.Init();

        var source = GraphLearnPartitionSource.Of(g, out var notCarried);
        // Weights, int and string attributes and edge labels go into the store now: only the stray mask id is named.
        Assert.Equal("1 TRAIN id(s) of 'item' are not nodes of the type: they are in no set of the store", Assert.Single(notCarried));
        Assert.Equal(new NodeColumns(true, 1, 1, Masks: "TRAIN,VAL,TEST"), source.NodeTypes[0].Columns);
        Assert.Equal(new EdgeColumns(true, false, true, 0, 0, 0, Directed: true), source.EdgeTypes[0].Columns);

        var dir = Path.Combine(TestGraphs.TempDir(), "s");
        GraphPartitioner.Run(source, new PartitionOptions(dir, 2));
        var store = PartitionStore.Open(dir);
        var sets = new Dictionary<long, string>();
        for (var p = 0; p < 2; p++)
        {
            using var part = store.LoadPartition(p);
            var nodes = part.Nodes("item");
            for (var r = 0; r < nodes.Count; r++)
            {
                var set = (nodes.TrainMask.Span[r] != 0 ? "train" : "") + (nodes.ValMask.Span[r] != 0 ? "val" : "") + (nodes.TestMask.Span[r] != 0 ? "test" : "");
                sets[nodes.BusinessIds.Span[r]] = set;
            }
        }
        // GraphLearn's sets, not the partitioner's default split: 5 is in no set, 42 is not an item.
        Assert.Equal(new Dictionary<long, string> { [1] = "train", [2] = "test", [3] = "train", [4] = "val", [5] = "" }, sets);
    }

    [Fact]
    public void A_graph_without_mask_sources_or_extra_columns_keeps_the_default_split_and_names_nothing()
    {
        var items = _files.Write("items.txt", "id:int64\tlabel:int32\tattributes:string", "1\t0\t0.1", "2\t1\t0.2");
        var g = new GraphLearn.Graph().Node(items, "item", new Decoder(labeled: true, attrTypes: ["float"]));
        g.Init();
        var source = GraphLearnPartitionSource.Of(g, out var notCarried);
        Assert.Empty(notCarried);
        Assert.False(source.NodeTypes[0].HasMasks);
    }
}
