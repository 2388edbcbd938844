using GraphActors.Graph.GraphLearn;

namespace GraphActors.Graph.Tests;

public class DecoderTests
{
    [Fact]
    public void GraphLearn_attribute_types_map_to_the_core_schema_in_order()
    {
        var d = new Decoder(attrTypes: ["string", "int", "float", "int64", "float32"]);

        Assert.Equal([AttributeKind.String, AttributeKind.Int, AttributeKind.Float, AttributeKind.Int, AttributeKind.Float], d.Attributes.Kinds);
        Assert.Equal(2, d.Attributes.IntCount);
        Assert.Equal(2, d.Attributes.FloatCount);
        Assert.Equal(1, d.Attributes.StringCount);
        Assert.True(d.Attributed);
    }

    [Fact]
    public void The_defaults_match_GraphLearn_unweighted_unlabeled_no_attributes_colon_delimiter()
    {
        var d = new Decoder();
        Assert.False(d.Weighted);
        Assert.False(d.Labeled);
        Assert.False(d.Attributed);
        Assert.Equal(":", d.AttrDelimiter);
        Assert.Same(AttributeSchema.Empty, d.Attributes);
    }

    [Fact]
    public void An_unknown_attribute_type_is_rejected_naming_it_and_the_accepted_types()
    {
        var e = Assert.Throws<ArgumentException>(() => new Decoder(attrTypes: ["float", "double"]));
        Assert.Contains("'double'", e.Message);
        Assert.Contains("\"int\", \"float\" and \"string\"", e.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\t")]
    public void An_empty_or_tab_delimiter_is_rejected(string delimiter) =>
        Assert.Throws<ArgumentException>(() => new Decoder(attrTypes: ["int"], attrDelimiter: delimiter));
}
