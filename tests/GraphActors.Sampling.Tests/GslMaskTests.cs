// GraphLearn's g.V(type, mask=gl.Mask.TRAIN|TEST|VAL): each mask walks its own node source's ids, as nodes of the type.
using GraphActors.Graph.GraphLearn;

namespace GraphActors.Sampling.Tests;

using Graph = GraphActors.Graph.GraphLearn.Graph;

public class GslMaskTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ga-gsl-mask-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private static string[] Table(string header, IEnumerable<string> rows) => [header, .. rows];

    /// <summary>
    /// Items 1..10 labelled id % 3 with one float feature (id / 10); i2i links item i to i + 1 (10 to 1). TRAIN lists
    /// items 6, 1, 4, 2, 8, 3 (file order), VAL 5, 9 and TEST 10, 7, as GraphLearn's examples write their tables.
    /// </summary>
    private Graph Items(params (Mask Mask, long[] Ids)[] masks)
    {
        var items = Write("items.txt", Table("id:int64\tlabel:int32\tattributes:string",
            Enumerable.Range(1, 10).Select(i => $"{i}\t{i % 3}\t{i / 10.0:0.0}")));
        var i2i = Write("i2i.txt", Table("src_id:int64\tdst_id:int64", Enumerable.Range(1, 10).Select(i => $"{i}\t{i % 10 + 1}")));
        var g = new Graph()
            .Node(items, "item", new Decoder(labeled: true, attrTypes: ["float"]))
            .Edge(i2i, ("item", "item", "i2i"), new Decoder());
        foreach (var (mask, ids) in masks)
            g.Node(Write($"{mask}.txt", Table("id:int64\tweight:float", ids.Select(id => $"{id}\t1.0"))), "item", new Decoder(weighted: true), mask);
        return g.Init();
    }

    private static readonly long[] Train = [6, 1, 4, 2, 8, 3];
    private static readonly long[] Val = [5, 9];
    private static readonly long[] Test = [10, 7];

    [Fact]
    public void Each_mask_walks_exactly_its_sources_ids_in_file_order_and_the_masks_stay_disjoint()
    {
        var g = Items((Mask.Train, Train), (Mask.Val, Val), (Mask.Test, Test));

        long[] Walk(Mask mask) => g.V("item", mask).Batch(4).Alias("seed").Values().SelectMany(b => b.Nodes("seed").Ids).ToArray();
        var train = Walk(Mask.Train);
        var val = Walk(Mask.Val);
        var test = Walk(Mask.Test);
        Assert.Equal(Train, train);
        Assert.Equal(Val, val);
        Assert.Equal(Test, test);
        Assert.Empty(train.Intersect(val));
        Assert.Empty(train.Intersect(test));
        Assert.Empty(val.Intersect(test));
        // Mask.None is the whole type.
        Assert.Equal(Enumerable.Range(1, 10).Select(i => (long)i), Walk(Mask.None));

        var ds = g.V("item", Mask.Train).Batch(4).Alias("seed").Values();
        Assert.Equal(2, ds.BatchesPerEpoch);
        Assert.Equal(4, ds.Next().Nodes("seed").Count);
        Assert.Equal(2, ds.Next().Nodes("seed").Count);
        Assert.Throws<OutOfRangeException>(() => ds.Next());
    }

    [Fact]
    public void Masked_nodes_carry_the_types_labels_features_and_neighbours()
    {
        var g = Items((Mask.Train, Train));
        var batch = g.V("item", Mask.Train).Batch(6).Alias("seed")
            .OutV("i2i").Sample(2).By("random").Alias("nbr")
            .Values(new GslOptions { Seed = 1 }).Next();
        var seed = batch.Nodes("seed");
        Assert.Equal(Train.Select(id => (int)(id % 3)), seed.Labels!);
        Assert.Equal(Train.Select(id => id / 10f), seed.FloatAttrs);
        // i2i: item i's one neighbour is i + 1.
        var nbr = batch.Nodes("nbr").Ids;
        for (var row = 0; row < Train.Length; row++) Assert.All(nbr[(row * 2)..(row * 2 + 2)], id => Assert.Equal(Train[row] % 10 + 1, id));
    }

    [Fact]
    public void A_shuffled_traversal_of_a_mask_visits_each_of_its_ids_once_per_epoch()
    {
        var g = Items((Mask.Train, Train), (Mask.Test, Test));
        var ds = g.V("item", Mask.Train).Batch(4).Shuffle(traverse: true).Alias("seed").Values(new GslOptions { Seed = 3 });
        for (var epoch = 0; epoch < 3; epoch++)
            Assert.Equal(Train.Order(), ds.SelectMany(b => b.Nodes("seed").Ids).Order());
        // Shuffle() without traverse draws from the mask's ids only.
        var drawn = g.V("item", Mask.Test).Batch(8).Shuffle().Alias("seed").Values(new GslOptions { Seed = 3 }).Take(5).SelectMany(b => b.Nodes("seed").Ids);
        Assert.All(drawn, id => Assert.Contains(id, Test));
    }

    [Fact]
    public void A_masked_id_the_type_does_not_hold_is_walked_with_defaults_and_no_neighbours()
    {
        var g = Items((Mask.Val, [5, 42]));
        var batch = g.V("item", Mask.Val).Alias("seed").OutV("i2i").Sample(1).By("random").Alias("nbr")
            .Values(new GslOptions { DefaultNeighborId = -1 }).Next();
        Assert.Equal([5L, 42], batch.Nodes("seed").Ids);
        Assert.Equal(-1, batch.Nodes("seed").DenseIds[1]);
        Assert.Equal([6L, -1], batch.Nodes("nbr").Ids);
    }

    [Fact]
    public void Walking_a_mask_the_type_was_not_given_names_the_call_that_declares_it()
    {
        var g = Items((Mask.Train, Train));
        var e = Assert.Throws<KeyNotFoundException>(() => g.V("item", Mask.Val));
        Assert.Contains("VAL", e.Message);
        Assert.Contains("Mask.Val", e.Message);
    }
}
