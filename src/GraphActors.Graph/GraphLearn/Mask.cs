namespace GraphActors.Graph.GraphLearn;

/// <summary>
/// GraphLearn's <c>gl.Mask</c>: marks a node source as the TRAIN, TEST or VAL set of its node type
/// (<c>g.node(source, type, decoder, mask=gl.Mask.TRAIN)</c>), which <c>g.V(type, mask=…)</c> then walks.
/// The values are GraphLearn's.
/// </summary>
public enum Mask
{
    None = 0,
    Train = 1,
    Test = 2,
    Val = 3,
}
