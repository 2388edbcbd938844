using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

public class LayoutSizeTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void CSR_and_feature_bytes_match_the_documented_layout()
    {
        const int users = 50, items = 30, dim = 4;
        var userLines = new List<string> { "id:int64\tattributes:string" };
        for (var u = 0; u < users; u++) userLines.Add($"{u}\t{u}:{u + 1}:{u + 2}:{u + 3}");
        var edgeLines = new List<string> { "src_id:int64\tdst_id:int64\tweight:float" };
        var edgeCount = 0;
        for (var u = 0; u < users; u++)
            for (var k = 0; k < u % 7; k++, edgeCount++)
                edgeLines.Add($"{u}\t{1000 + (u * 3 + k) % items}\t1");
        var g = new GraphLearn.Graph()
            .Node(_files.Write("users.txt", userLines.ToArray()), "user", new Decoder(attrTypes: ["float", "float", "float", "float"]))
            .Edge(_files.Write("u2i.txt", edgeLines.ToArray()), ("user", "item", "u2i"), new Decoder(weighted: true))
            .Init();

        var u2i = g.Store.Edges("u2i");
        Assert.Equal(edgeCount, u2i.Count);
        // Out: int64 offsets (rows + 1) and int32 neighbours; in: the same plus int32 edge ids.
        Assert.Equal((users + 1) * 8L + edgeCount * 4L, u2i.Out.ByteSize);
        Assert.Equal((items + 1) * 8L + edgeCount * 8L, u2i.In.ByteSize);
        Assert.Equal((long)users * dim * 4, g.Store.Nodes("user").Features.ByteSize);
        Assert.Equal(users * dim, g.Store.Nodes("user").Features.Data.Length);
        Assert.Equal(edgeCount * 4L, u2i.Data.MemoryBytes);
    }
}
