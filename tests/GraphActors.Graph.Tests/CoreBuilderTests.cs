using GraphActors.Contracts;

namespace GraphActors.Graph.Tests;

public class CoreBuilderTests
{
    [Fact]
    public void A_node_rejected_for_its_attribute_count_leaves_the_table_consistent()
    {
        var builder = new HeteroGraphBuilder();
        var nodes = builder.AddNodeType(new NodeType("user"), AttributeSchema.Floats(2));

        Assert.Throws<ArgumentException>(() => nodes.TryAdd(7, 1f, -1, [], [1f], [], out _));
        Assert.True(nodes.TryAdd(8, 1f, -1, [], [1f, 2f], [], out _));

        var graph = builder.Build();
        Assert.Equal(1, graph.Nodes("user").Count);
        Assert.False(graph.Nodes("user").Ids.TryGetDense(7, out _));
    }

    [Fact]
    public void An_edge_rejected_for_its_attribute_count_leaves_the_table_consistent()
    {
        var builder = new HeteroGraphBuilder();
        var users = builder.AddNodeType(new NodeType("user"), AttributeSchema.Empty);
        users.TryAdd(1, [], -1, out _);
        var edges = builder.AddEdgeType(new CanonicalEdgeType("user", "follows", "user"), AttributeSchema.Floats(1));

        Assert.Throws<ArgumentException>(() => edges.Add(0, 0, 1f, -1, [], [], []));
        edges.Add(0, 0, 1f, -1, [], [0.5f], []);

        var graph = builder.Build();
        Assert.Equal(1, graph.Edges("follows").Count);
    }
}
