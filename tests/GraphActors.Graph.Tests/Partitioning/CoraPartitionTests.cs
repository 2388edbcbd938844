using GraphActors.Graph.Cgdf;
using GraphActors.Graph.Partitioning;
using GraphActors.Graph.Tables;
using GraphActors.Graph.Tests.Etl;

namespace GraphActors.Graph.Tests.Partitioning;

/// <summary>The real citation graph through the whole offline path: LINQS files → Hive → CGDF → 4 partitions.</summary>
public sealed class CoraPartitionTests
{
    [DatasetFact("cora")]
    public void On_cora_in_four_parts_metis_cuts_under_a_fifth_of_the_edges_hash_cuts_and_keeps_parts_balanced()
    {
        using var dir = new TempDir();
        LinqsImporter.Run(SharedData.Require("cora"), "cora", dir.Sub("t"), "2024-01-01");
        HiveToCgdf.Run(new EtlOptions(dir.Sub("t"), "2024-01-01", dir.Sub("cgdf")));

        var hash = GraphPartitioner.Run(new CgdfPartitionSource(dir.Sub("cgdf")), new PartitionOptions(dir.Sub("hash"), 4, "hash"));
        var metis = GraphPartitioner.Run(new CgdfPartitionSource(dir.Sub("cgdf")), new PartitionOptions(dir.Sub("metis"), 4, "metis"));

        Assert.Equal(5429, hash.Edges);
        Assert.Equal(5429, metis.Edges);
        // Hash placement cuts about 3/4 of the edges (1 - 1/N); METIS finds the citation communities.
        Assert.InRange(hash.CutFraction, 0.70, 0.80);
        Assert.True(metis.CutEdges * 5 < hash.CutEdges, $"METIS cut {metis.CutEdges}, hash cut {hash.CutEdges}");
        var sizes = metis.Rows.Select(r => (double)r.Nodes_Total).ToArray();
        Assert.True(sizes.Max() / sizes.Average() < 1.10, $"METIS part sizes {string.Join(", ", sizes)}");
    }
}
