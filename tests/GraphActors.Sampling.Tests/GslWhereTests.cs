// GraphLearn's conditional negatives, outNeg(t).sample(k).by(s).where(target, condition): shares per attribute column,
// what a negative avoids (neighbours and positive, or the batch's positives with batch_share), unique, and bad input.
using GraphActors.Contracts;
using GraphActors.Graph;

namespace GraphActors.Sampling.Tests;

public class GslWhereTests
{
    /// <summary>
    /// Users 0..11 and items 0..29; user u buys items u, u + 12 and (u + 24) % 30, so every item is reached. Item i has
    /// int attributes [i % 3, i % 2], float attribute [(i % 4) / 2] and string attribute ["c" + i % 5].
    /// </summary>
    private static readonly HeteroGraph Shop = BuildShop();

    private static HeteroGraph BuildShop()
    {
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Empty);
        for (var u = 0; u < 12; u++) users.TryAdd(u, 1f, -1, [], [], [], out _);
        var items = b.AddNodeType("item", new AttributeSchema([AttributeKind.Int, AttributeKind.Int, AttributeKind.Float, AttributeKind.String]));
        for (var i = 0; i < 30; i++) items.TryAdd(i, 1f, -1, [i % 3, i % 2], [i % 4 / 2f], [$"c{i % 5}"], out _);
        var u2i = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty, directed: false);
        for (var u = 0; u < 12; u++)
        {
            u2i.Add(u, u);
            u2i.Add(u, u + 12);
            u2i.Add(u, (u + 24) % 30);
        }
        return b.Build();
    }

    private static long Int(int item, int col) => Shop.Nodes("item").Data.IntsOf(item)[col];

    /// <summary>GraphLearn's documented example: a share per int column and per string column, the rest by the strategy.</summary>
    private static GslQuery EdgesWithConditionedNegatives(Func<GslQuery, GslQuery> where, int batch = 12) =>
        Shop.E("u2i").Batch(batch).Alias("e").Each(
            e => e.InV().Alias("dst"),
            e => where(e.OutV().Alias("src").OutNeg("u2i").Sample(10).By("random")).Alias("neg"));

    [Fact]
    public void Each_column_takes_its_share_from_candidates_holding_the_positives_value_and_avoids_neighbours_and_the_positive()
    {
        var condition = new NegativeCondition
        {
            IntCols = [0, 1], IntProps = [0.2f, 0.2f], FloatCols = [0], FloatProps = [0.2f], StrCols = [0], StrProps = [0.2f],
        };
        var ds = EdgesWithConditionedNegatives(n => n.Where("dst", condition)).Values(new GslOptions { Seed = 1 });
        var data = Shop.Nodes("item").Data;
        var adjacency = Shop.Edges("u2i").Out;
        foreach (var batch in ds)
        {
            var src = batch.Nodes("src").DenseIds;
            var dst = batch.Nodes("dst").DenseIds;
            var neg = batch.Nodes("neg");
            Assert.Equal([src.Length, 10], neg.Shape);
            for (var row = 0; row < src.Length; row++)
            {
                var r = neg.DenseIds.AsSpan(row * 10, 10).ToArray();
                // 10 × 0.2 = 2 per column, in GraphLearn's order: int columns, float columns, string columns; 2 by the strategy alone.
                Assert.All(r[0..2], n => Assert.Equal(Int(dst[row], 0), Int(n, 0)));
                Assert.All(r[2..4], n => Assert.Equal(Int(dst[row], 1), Int(n, 1)));
                Assert.All(r[4..6], n => Assert.Equal(data.FloatsOf(dst[row])[0], data.FloatsOf(n)[0]));
                Assert.All(r[6..8], n => Assert.Equal(data.StringsOf(dst[row])[0], data.StringsOf(n)[0]));
                Assert.All(r, n => Assert.NotEqual(dst[row], n));
                Assert.All(r, n => Assert.False(adjacency.Contains(src[row], n), $"negative {n} is a neighbour of user {src[row]}"));
            }
            Assert.Equal(0, neg.Negatives!.Value.Unresolved);
        }
    }

    [Fact]
    public void Graphlearns_dictionary_form_samples_the_same_as_the_record()
    {
        long[] Run(Func<GslQuery, GslQuery> where) =>
            EdgesWithConditionedNegatives(where).Values(new GslOptions { Seed = 4 }).SelectMany(b => b.Nodes("neg").Ids).ToArray();

        var viaRecord = Run(n => n.Where("dst", new NegativeCondition { Unique = true, IntCols = [0, 1], IntProps = [0.25f, 0.25f], StrCols = [0], StrProps = [0.5f] }));
        var viaDictionary = Run(n => n.Where("dst", new Dictionary<string, object>
        {
            ["unique"] = true, ["int_cols"] = new[] { 0, 1 }, ["int_props"] = new[] { 0.25, 0.25 }, ["str_cols"] = new[] { 0 }, ["str_props"] = new[] { 0.5 },
        }));
        Assert.Equal(viaRecord, viaDictionary);
    }

    [Fact]
    public void Unique_never_repeats_a_negative_within_a_row_where_plain_draws_do()
    {
        // Category i % 3 holds 10 items, fewer once a row's neighbours are refused: 8 draws from it repeat unless unique.
        GslDataset Run(bool unique) => EdgesWithConditionedNegatives(n => n.Sample(8).Where("dst",
            new NegativeCondition { Unique = unique, IntCols = [0], IntProps = [1f] }), batch: 36).Values(new GslOptions { Seed = 2 });

        var neg = Run(unique: true).Next().Nodes("neg");
        for (var row = 0; row < 36; row++)
        {
            var r = neg.Ids.AsSpan(row * 8, 8).ToArray();
            Assert.Equal(8, r.Distinct().Count());
        }
        Assert.Equal(0, neg.Negatives!.Value.Unresolved);

        var plain = Run(unique: false).Next().Nodes("neg");
        Assert.Contains(Enumerable.Range(0, 36), row => plain.Ids.AsSpan(row * 8, 8).ToArray().Distinct().Count() < 8);
    }

    /// <summary>Users 0..5 each buy the same-numbered item 0..5; every item is in category 0.</summary>
    private static HeteroGraph OneCategory()
    {
        var b = new HeteroGraphBuilder();
        var users = b.AddNodeType("user", AttributeSchema.Empty);
        for (var u = 0; u < 6; u++) users.TryAdd(u, 1f, -1, [], [], [], out _);
        var items = b.AddNodeType("item", new AttributeSchema([AttributeKind.Int]));
        for (var i = 0; i < 6; i++) items.TryAdd(i, 1f, -1, [0], [], [], out _);
        var u2i = b.AddEdgeType(new CanonicalEdgeType("user", "u2i", "item"), AttributeSchema.Empty);
        for (var u = 0; u < 6; u++) u2i.Add(u, u);
        return b.Build();
    }

    [Fact]
    public void Batch_share_avoids_every_positive_of_the_batch_where_a_row_otherwise_avoids_only_its_own()
    {
        var g = OneCategory();
        GslBatch Run(NegativeCondition condition, int k) =>
            g.E("u2i").Batch(3).Alias("e").Each(
                    e => e.InV().Alias("dst"),
                    e => e.OutV().Alias("src").OutNeg("u2i").Sample(k).By("random").Where("dst", condition).Alias("neg"))
                .Values(new GslOptions { Seed = 5 }).Next();

        // The first batch's positives are items 0, 1, 2.
        var shared = Run(new NegativeCondition { BatchShare = true, IntCols = [0], IntProps = [0.5f] }, 60).Nodes("neg");
        Assert.All(shared.Ids, id => Assert.InRange(id, 3, 5));

        var own = Run(new NegativeCondition { IntCols = [0], IntProps = [0.5f] }, 60).Nodes("neg");
        for (var row = 0; row < 3; row++) Assert.DoesNotContain((long)row, own.Ids.AsSpan(row * 60, 60).ToArray());
        Assert.Contains(own.Ids, id => id is 0 or 1 or 2); // another row's positive is a fair negative here

        // batch_share with unique: the batch's negatives are all different (a pool shared by the batch).
        var pool = Run(new NegativeCondition { BatchShare = true, Unique = true }, 1).Nodes("neg");
        Assert.Equal(3, pool.Ids.Distinct().Count());
        Assert.All(pool.Ids, id => Assert.InRange(id, 3, 5));
    }

    [Fact]
    public void A_target_written_after_its_negatives_is_computed_first_and_samples_as_if_written_before()
    {
        var condition = new NegativeCondition { IntCols = [0], IntProps = [0.5f] };
        long[] Flatten(GslBatch b) => b.Nodes("dst").Ids.Concat(b.Nodes("neg").Ids).ToArray();

        var before = EdgesWithConditionedNegatives(n => n.Where("dst", condition)).Values(new GslOptions { Seed = 8 }).SelectMany(Flatten).ToArray();

        var e = Shop.E("u2i").Batch(12).Alias("e");
        var neg = e.OutV().Alias("src").OutNeg("u2i").Sample(10).By("random");
        e.InV().Alias("dst");
        neg.Where("dst", condition).Alias("neg");
        var after = e.Values(new GslOptions { Seed = 8 }).SelectMany(Flatten).ToArray();

        Assert.Equal(before, after);
    }

    [Fact]
    public void In_degree_conditioned_negatives_keep_the_column_share_and_avoid_neighbours()
    {
        var batch = EdgesWithConditionedNegatives(n => n.By("in_degree").Where("dst", new NegativeCondition { StrCols = [0], StrProps = [1f] }))
            .Values(new GslOptions { Seed = 6 }).Next();
        var data = Shop.Nodes("item").Data;
        var src = batch.Nodes("src").DenseIds;
        var dst = batch.Nodes("dst").DenseIds;
        var neg = batch.Nodes("neg").DenseIds;
        for (var row = 0; row < src.Length; row++)
            for (var j = 0; j < 10; j++)
            {
                var n = neg[row * 10 + j];
                Assert.False(Shop.Edges("u2i").Out.Contains(src[row], n));
                // A colour has six items, at most three of them this user's: the share can always be met.
                Assert.Equal(data.StringsOf(dst[row])[0], data.StringsOf(n)[0]);
            }
    }

    [Fact]
    public void Bad_conditions_are_refused_naming_the_field()
    {
        GslQuery Negatives() => Shop.E("u2i").Batch(4).Alias("e").Each(e => e.InV().Alias("dst"))
            .OutV().Alias("src").OutNeg("u2i").Sample(10).By("random");

        var column = Assert.Throws<ArgumentOutOfRangeException>(() => Negatives().Where("dst", new NegativeCondition { IntCols = [2], IntProps = [0.5f] }));
        Assert.Equal("int_cols", column.ParamName);
        Assert.Contains("int_cols[0] is 2", column.Message);
        Assert.Contains("2 int attribute", column.Message);
        var str = Assert.Throws<ArgumentOutOfRangeException>(() => Negatives().Where("dst", new NegativeCondition { StrCols = [1], StrProps = [0.5f] }));
        Assert.Equal("str_cols", str.ParamName);

        var count = Assert.Throws<ArgumentException>(() => Negatives().Where("dst", new NegativeCondition { IntCols = [0, 1], IntProps = [0.5f] }));
        Assert.Equal("int_props", count.ParamName);
        var share = Assert.Throws<ArgumentOutOfRangeException>(() => Negatives().Where("dst", new NegativeCondition { FloatCols = [0], FloatProps = [1.5f] }));
        Assert.Equal("float_props", share.ParamName);
        var sum = Assert.Throws<ArgumentException>(() => Negatives().Where("dst", new NegativeCondition { IntCols = [0], IntProps = [0.6f], StrCols = [0], StrProps = [0.6f] }));
        Assert.Contains("at most 1", sum.Message);

        // GraphLearn's dictionary: proportions are floats, columns ints, keys from its list.
        var ints = Assert.Throws<ArgumentException>(() => Negatives().Where("dst", new Dictionary<string, object> { ["int_cols"] = new[] { 0 }, ["int_props"] = new[] { 1 } }));
        Assert.Equal("int_props", ints.ParamName);
        Assert.Contains("1.0", ints.Message);
        var cols = Assert.Throws<ArgumentException>(() => Negatives().Where("dst", new Dictionary<string, object> { ["str_cols"] = new[] { "c0" } }));
        Assert.Equal("str_cols", cols.ParamName);
        var flag = Assert.Throws<ArgumentException>(() => Negatives().Where("dst", new Dictionary<string, object> { ["unique"] = "yes" }));
        Assert.Equal("unique", flag.ParamName);
        var key = Assert.Throws<ArgumentException>(() => Negatives().Where("dst", new Dictionary<string, object> { ["int_col"] = new[] { 0 } }));
        Assert.Contains("\"int_col\" is not supported", key.Message);
    }

    [Fact]
    public void Bad_targets_and_misplaced_Where_are_refused_with_a_reason()
    {
        var missing = Assert.Throws<ArgumentException>(() => Shop.V("user").Alias("u").OutNeg("u2i").Sample(2).By("random").Where("dst"));
        Assert.Contains("'dst'", missing.Message);
        Assert.Contains("u", missing.Message);

        var edges = Assert.Throws<ArgumentException>(() => Shop.E("u2i").Alias("e").OutV().Alias("src").OutNeg("u2i").Sample(2).By("random").Where("e"));
        Assert.Contains("edges", edges.Message);

        var type = Assert.Throws<ArgumentException>(() => Shop.E("u2i").Alias("e").OutV().Alias("src").OutNeg("u2i").Sample(2).By("random").Where("src"));
        Assert.Contains("user nodes", type.Message);
        Assert.Contains("item nodes", type.Message);

        var notNegative = Assert.Throws<InvalidOperationException>(() => Shop.V("user").Alias("u").OutV("u2i").Sample(2).By("random").Where("u"));
        Assert.Contains("outNeg/inNeg", notNegative.Message);

        var exclude = Assert.Throws<InvalidOperationException>(() => Shop.E("u2i").Alias("e").Each(e => e.InV().Alias("dst"))
            .OutV().Alias("src").OutNeg("u2i").Sample(2).By("random").ExcludeTrueNeighbors().Where("dst").Alias("neg").Values());
        Assert.Contains("ExcludeTrueNeighbors", exclude.Message);

        // The positives must come one per source: here two items per user against one user per edge.
        var rows = Assert.Throws<InvalidOperationException>(() =>
        {
            var e = Shop.E("u2i").Alias("e");
            e.InV().Alias("dst").OutV("u2i_reverse").Sample(2).By("random").Alias("users").OutV("u2i").Sample(1).By("random").Alias("items");
            e.OutV().Alias("src").OutNeg("u2i").Sample(2).By("random").Where("items").Alias("neg");
            return e.Values();
        });
        Assert.Contains("line up", rows.Message);
    }
}
