// GraphLearn's default values: what a lookup answers for a node that has no row of its own.
namespace GraphActors.Graph.GraphLearn;

/// <summary>
/// The values GraphLearn gives a node (or edge) without a row of its own: a node named by an edge but absent from its
/// type's node source, and a lookup of an id the graph does not hold. GraphLearn's defaults, which
/// <c>gl.set_default_int_attribute</c>, <c>…_float_attribute</c>, <c>…_string_attribute</c>, <c>set_default_weight</c>
/// and <c>set_default_label</c> change: int 0, float 0.0, string "", weight 0.0, label −1 (unlabelled).
/// </summary>
public sealed record AttributeDefaults(long Int = 0, float Float = 0f, string String = "", float Weight = 0f, int Label = -1);
