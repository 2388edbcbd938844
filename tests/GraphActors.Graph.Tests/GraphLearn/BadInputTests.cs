using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

/// <summary>Every bad input names its file, 1-based line and field, so a person can go straight to it.</summary>
public class BadInputTests : IDisposable
{
    private readonly TempFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static GraphInputException InitFails(GraphLearn.Graph g)
    {
        var e = Assert.Throws<GraphInputException>(() => g.Init());
        Assert.False(g.IsInitialized);
        return e;
    }

    private GraphInputException LoadNodes(Decoder decoder, params string[] lines) =>
        InitFails(new GraphLearn.Graph().Node(_files.Write("nodes.txt", lines), "user", decoder));

    private void AssertAt(GraphInputException e, string file, long line, string? field)
    {
        Assert.Equal(Path.Combine(_files.Directory, file), e.SourceName);
        Assert.Equal(line, e.Line);
        Assert.Equal(field, e.Field);
        Assert.Contains($"{e.SourceName}:{line}", e.Message);
    }

    [Fact]
    public void A_header_column_with_a_wrong_type_is_reported_on_line_1()
    {
        var e = LoadNodes(new Decoder(weighted: true), "id:int64\tweight:string", "1\t0.5");
        AssertAt(e, "nodes.txt", 1, "weight");
        Assert.Contains("'string'", e.Message);
    }

    [Fact]
    public void Header_columns_out_of_GraphLearn_order_are_reported_on_line_1()
    {
        var e = LoadNodes(new Decoder(weighted: true, labeled: true), "id:int64\tlabel:int32\tweight:float", "1\t0\t0.5");
        AssertAt(e, "nodes.txt", 1, "weight");
        Assert.Contains("order", e.Message);
    }

    [Fact]
    public void A_header_missing_a_column_the_decoder_needs_is_reported_on_line_1()
    {
        var e = LoadNodes(new Decoder(labeled: true), "id:int64", "1");
        AssertAt(e, "nodes.txt", 1, "label");
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void A_header_with_a_column_the_decoder_does_not_have_is_reported_on_line_1()
    {
        var e = LoadNodes(new Decoder(), "id:int64\tweight:float", "1\t0.5");
        AssertAt(e, "nodes.txt", 1, "weight");
    }

    [Fact]
    public void A_header_item_without_a_type_is_reported_on_line_1()
    {
        var e = LoadNodes(new Decoder(), "id", "1");
        AssertAt(e, "nodes.txt", 1, "id");
    }

    [Fact]
    public void An_empty_file_is_reported_as_a_missing_header()
    {
        var e = InitFails(new GraphLearn.Graph().Node(_files.Write("nodes.txt", ""), "user", new Decoder()));
        AssertAt(e, "nodes.txt", 1, null);
    }

    [Fact]
    public void A_line_with_too_few_columns_names_the_first_missing_one()
    {
        var e = LoadNodes(new Decoder(weighted: true, labeled: true), "id:int64\tweight:float\tlabel:int32", "1\t0.5\t0", "2\t0.5\t1", "3\t0.5");
        AssertAt(e, "nodes.txt", 4, "label");
    }

    [Fact]
    public void A_line_with_too_many_columns_is_reported_with_its_count()
    {
        var e = LoadNodes(new Decoder(), "id:int64", "1", "2\t3");
        AssertAt(e, "nodes.txt", 3, null);
        Assert.Contains("2 columns", e.Message);
    }

    [Fact]
    public void An_unparsable_id_is_quoted()
    {
        var e = LoadNodes(new Decoder(), "id:int64", "1", "2", "x3");
        AssertAt(e, "nodes.txt", 4, "id");
        Assert.Contains("'x3'", e.Message);
    }

    [Fact]
    public void An_id_beyond_int64_is_rejected()
    {
        var e = LoadNodes(new Decoder(), "id:int64", "9223372036854775808");
        AssertAt(e, "nodes.txt", 2, "id");
    }

    [Fact]
    public void An_unparsable_weight_is_quoted()
    {
        var e = LoadNodes(new Decoder(weighted: true), "id:int64\tweight:float", "1\t0.5", "2\t0,5");
        AssertAt(e, "nodes.txt", 3, "weight");
        Assert.Contains("'0,5'", e.Message);
    }

    [Fact]
    public void A_weight_that_is_not_finite_is_rejected()
    {
        var e = LoadNodes(new Decoder(weighted: true), "id:int64\tweight:float", "1\t0.5", "2\tNaN");
        AssertAt(e, "nodes.txt", 3, "weight");
    }

    [Fact]
    public void An_unparsable_label_is_quoted()
    {
        var e = LoadNodes(new Decoder(labeled: true), "id:int64\tlabel:int32", "1\t1", "2\t1", "3\t1.5");
        AssertAt(e, "nodes.txt", 4, "label");
        Assert.Contains("'1.5'", e.Message);
    }

    [Fact]
    public void An_attribute_count_that_disagrees_with_the_decoder_is_reported_on_attributes()
    {
        var e = LoadNodes(new Decoder(attrTypes: ["int", "float"]), "id:int64\tattributes:string", "1\t1:0.5", "2\t1:0.5:7");
        AssertAt(e, "nodes.txt", 3, "attributes");
        Assert.Contains("3 attributes", e.Message);
    }

    [Fact]
    public void An_unparsable_attribute_value_is_quoted_with_its_position()
    {
        var e = LoadNodes(new Decoder(attrTypes: ["int", "float"]), "id:int64\tattributes:string", "1\t1:0.5", "2\t1:abc");
        AssertAt(e, "nodes.txt", 3, "attributes");
        Assert.Contains("attribute 2 (float)", e.Message);
        Assert.Contains("'abc'", e.Message);
    }

    [Fact]
    public void A_duplicate_node_id_names_the_line_of_its_first_occurrence()
    {
        var e = LoadNodes(new Decoder(), "id:int64", "10", "11", "12", "11");
        AssertAt(e, "nodes.txt", 5, "id");
        Assert.Contains("first seen on line 3", e.Message);
    }

    [Fact]
    public void A_missing_file_is_reported_with_its_path()
    {
        var path = Path.Combine(_files.Directory, "absent.txt");
        var e = InitFails(new GraphLearn.Graph().Node(path, "user", new Decoder()));
        Assert.Equal(path, e.SourceName);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void An_empty_line_between_data_lines_is_reported()
    {
        var e = LoadNodes(new Decoder(), "id:int64", "1", "", "2");
        AssertAt(e, "nodes.txt", 3, null);
    }

    [Fact]
    public void Trailing_empty_lines_are_accepted()
    {
        var path = _files.Write("nodes.txt", "id:int64", "1", "2", "", "", "");
        var g = new GraphLearn.Graph().Node(path, "user", new Decoder()).Init();
        Assert.Equal(2, g.NodeCount("user"));
    }
}
