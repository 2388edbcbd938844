// JSON request bodies → prediction requests, with a 400 naming the first thing wrong.
using System.Text.Json;

namespace GraphActors.Serving;

/// <summary>
/// Bodies (snake_case, docs/SERVING.md): node requests <c>{"node_type", "ids", "embeddings"?, "full_neighborhood"?}</c>,
/// link requests <c>{"src_type", "dst_type", "pairs": [[src, dst], …], "full_neighborhood"?}</c>.
/// </summary>
internal static class RequestParsing
{
    public static PredictionRequest Parse(JsonElement body, string model, string? version)
    {
        if (body.ValueKind != JsonValueKind.Object) throw ServingException.BadRequest("The request body must be a JSON object.");
        var full = OptionalBool(body, "full_neighborhood");
        if (body.TryGetProperty("pairs", out var pairs))
        {
            if (pairs.ValueKind != JsonValueKind.Array) throw ServingException.BadRequest("\"pairs\" must be an array of [src, dst] pairs.");
            var src = new long[pairs.GetArrayLength()];
            var dst = new long[src.Length];
            var i = 0;
            foreach (var p in pairs.EnumerateArray())
            {
                if (p.ValueKind != JsonValueKind.Array || p.GetArrayLength() != 2 || !Id(p[0], out src[i]) || !Id(p[1], out dst[i]))
                    throw ServingException.BadRequest($"pairs[{i}] must be [src_id, dst_id] with integer ids.");
                i++;
            }
            return new LinkPredictionRequest
            {
                Model = model, Version = version, FullNeighborhood = full,
                SrcType = RequiredString(body, "src_type"), DstType = RequiredString(body, "dst_type"), Src = src, Dst = dst,
            };
        }
        if (!body.TryGetProperty("ids", out var idsElement) || idsElement.ValueKind != JsonValueKind.Array)
            throw ServingException.BadRequest("The body needs \"ids\" (an array of business ids) or \"pairs\".");
        var ids = new long[idsElement.GetArrayLength()];
        var k = 0;
        foreach (var e in idsElement.EnumerateArray())
        {
            if (!Id(e, out ids[k])) throw ServingException.BadRequest($"ids[{k}] is not an integer id: {e.GetRawText()}.");
            k++;
        }
        return new NodePredictionRequest
        {
            Model = model, Version = version, FullNeighborhood = full,
            NodeType = RequiredString(body, "node_type"), Ids = ids, Embeddings = OptionalBool(body, "embeddings") ?? false,
        };
    }

    /// <summary>An explanation body: <c>{"node_type", "ids", "target"?, "top_k"?, "full_neighborhood"?}</c>.</summary>
    public static NodeExplanationRequest ParseExplanation(JsonElement body, string model, string? version)
    {
        if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("pairs", out _))
            throw ServingException.BadRequest("Explanations are for node classification: send {\"node_type\", \"ids\"}, not \"pairs\".");
        if (body.ValueKind == JsonValueKind.Object && OptionalBool(body, "embeddings") == true)
            throw ServingException.BadRequest("Explanations explain a class score: \"embeddings\" does not apply.");
        var node = (NodePredictionRequest)Parse(body, model, version);
        return new NodeExplanationRequest
        {
            Model = model, Version = version, FullNeighborhood = node.FullNeighborhood, NodeType = node.NodeType, Ids = node.Ids,
            Target = OptionalInt(body, "target", 0, int.MaxValue),
            TopNeighbors = OptionalInt(body, "top_k", 0, 1000) ?? 10,
        };
    }

    private static int? OptionalInt(JsonElement body, string name, int min, int max)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) && n >= min && n <= max
            ? n
            : throw ServingException.BadRequest($"\"{name}\" must be an integer from {min} to {max}, got {v.GetRawText()}.");
    }

    // TryGetInt64 throws on a non-number; a string id is the client's mistake, not ours.
    private static bool Id(JsonElement e, out long id)
    {
        id = 0;
        return e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out id);
    }

    private static string RequiredString(JsonElement body, string name) =>
        body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s
            ? s
            : throw ServingException.BadRequest($"\"{name}\" (a string) is missing.");

    private static bool? OptionalBool(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ServingException.BadRequest($"\"{name}\" must be true or false."),
        };
    }
}
