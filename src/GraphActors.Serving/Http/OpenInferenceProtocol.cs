// KServe v2 / Open Inference Protocol tensors ↔ our node and link prediction requests (the mapping is in docs/SERVING.md).
using System.Text.Json;

namespace GraphActors.Serving;

/// <summary>
/// The Open Inference Protocol's inference request and response (kserve docs/predict-api/v2/required_api.md) mapped onto
/// <see cref="NodePredictionRequest"/> and <see cref="LinkPredictionRequest"/>:
/// <list type="bullet">
/// <item>input tensor <c>ids</c> (an integer datatype, shape [n] or [n, 1]): business ids of one node type → a node request;</item>
/// <item>input tensor <c>pairs</c> (an integer datatype, shape [n, 2]): (src, dst) business ids → a link request;</item>
/// <item><c>node_type</c>, <c>src_type</c>, <c>dst_type</c> (strings) and <c>embeddings</c>, <c>full_neighborhood</c>
/// (booleans): a request parameter of that name, or a BYTES / BOOL input tensor of that name with one element.</item>
/// </list>
/// Outputs: node classification <c>label</c> (INT64 [n]) and <c>probabilities</c> (FP32 [n, classes]); embeddings
/// <c>embeddings</c> (FP32 [n, width]); links <c>score</c> and <c>probability</c> (FP32 [n]). A request's <c>outputs</c>
/// selects among them. Anything else is a 400 naming the field (<c>inputs[1].shape</c>, …).
/// </summary>
internal static class OpenInferenceProtocol
{
    public const string Platform = "graphactors_torchsharp";

    private static readonly HashSet<string> IntegerTypes = ["INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"];
    private static readonly string[] StringFields = ["node_type", "src_type", "dst_type"];
    private static readonly string[] BoolFields = ["embeddings", "full_neighborhood"];
    private static readonly string[] KnownInputs = ["ids", "pairs", .. StringFields, .. BoolFields];

    /// <summary>A parsed inference request: ours, the id to echo and the outputs asked for (null: all).</summary>
    public sealed record Parsed(PredictionRequest Request, string Id, IReadOnlyList<string>? Outputs);

    public static Parsed Parse(JsonElement body, string model, string? version)
    {
        if (body.ValueKind != JsonValueKind.Object) throw Bad("The body must be an inference request object {\"inputs\": [ … ]}.");
        var id = body.TryGetProperty("id", out var idElement)
            ? idElement.ValueKind == JsonValueKind.String ? idElement.GetString()! : throw Bad("\"id\" must be a string.")
            : Guid.NewGuid().ToString("N");
        var parameters = body.TryGetProperty("parameters", out var p) ? p : default;
        if (parameters.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object or JsonValueKind.Null))
            throw Bad("\"parameters\" must be an object.");
        if (!body.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
            throw Bad("\"inputs\" (an array of input tensors) is missing or empty.");

        var tensors = new Dictionary<string, (JsonElement Tensor, string Field)>(StringComparer.Ordinal);
        var index = 0;
        foreach (var input in inputs.EnumerateArray())
        {
            var field = $"inputs[{index++}]";
            if (input.ValueKind != JsonValueKind.Object) throw Bad($"{field} must be an object {{\"name\", \"shape\", \"datatype\", \"data\"}}.");
            var name = input.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw Bad($"{field}.name (a string) is missing.");
            if (!KnownInputs.Contains(name, StringComparer.Ordinal))
                throw Bad($"{field}.name '{name}' is not an input of this model; the inputs are {string.Join(", ", KnownInputs)}.");
            if (!tensors.TryAdd(name, (input, field))) throw Bad($"{field}: input '{name}' is given twice.");
        }

        string? Text(string name)
        {
            var fromParameter = parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty(name, out var v) ? v : default;
            if (tensors.TryGetValue(name, out var t))
            {
                if (fromParameter.ValueKind != JsonValueKind.Undefined) throw Bad($"'{name}' is given both as an input and as a parameter.");
                var values = Elements(t.Tensor, t.Field, "BYTES");
                if (values.Count != 1 || values[0].ValueKind != JsonValueKind.String) throw Bad($"{t.Field}.data must hold one string ('{name}').");
                return values[0].GetString();
            }
            if (fromParameter.ValueKind == JsonValueKind.Undefined) return null;
            return fromParameter.ValueKind == JsonValueKind.String ? fromParameter.GetString() : throw Bad($"parameters.{name} must be a string.");
        }

        bool? Flag(string name)
        {
            var fromParameter = parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty(name, out var v) ? v : default;
            if (tensors.TryGetValue(name, out var t))
            {
                if (fromParameter.ValueKind != JsonValueKind.Undefined) throw Bad($"'{name}' is given both as an input and as a parameter.");
                var values = Elements(t.Tensor, t.Field, "BOOL");
                if (values.Count != 1 || values[0].ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    throw Bad($"{t.Field}.data must hold one boolean ('{name}').");
                return values[0].GetBoolean();
            }
            return fromParameter.ValueKind switch
            {
                JsonValueKind.Undefined or JsonValueKind.Null => null,
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Bad($"parameters.{name} must be true or false."),
            };
        }

        var full = Flag("full_neighborhood");
        var embeddings = Flag("embeddings");
        PredictionRequest request;
        if (tensors.TryGetValue("pairs", out var pairs))
        {
            if (tensors.ContainsKey("ids")) throw Bad("Send either 'ids' (node predictions) or 'pairs' (link predictions), not both.");
            if (embeddings is not null) throw Bad("'embeddings' applies to 'ids', not to 'pairs'.");
            var (shape, values) = Integers(pairs.Tensor, pairs.Field);
            if (shape.Length != 2 || shape[1] != 2) throw Bad($"{pairs.Field}.shape must be [n, 2] for 'pairs', got [{string.Join(", ", shape)}].");
            var src = new long[values.Length / 2];
            var dst = new long[src.Length];
            for (var i = 0; i < src.Length; i++) { src[i] = values[2 * i]; dst[i] = values[2 * i + 1]; }
            request = new LinkPredictionRequest
            {
                Model = model, Version = version, FullNeighborhood = full,
                SrcType = Text("src_type") ?? throw Bad("'src_type' (a parameter or a BYTES input) is missing."),
                DstType = Text("dst_type") ?? throw Bad("'dst_type' (a parameter or a BYTES input) is missing."),
                Src = src, Dst = dst,
            };
        }
        else if (tensors.TryGetValue("ids", out var ids))
        {
            var (shape, values) = Integers(ids.Tensor, ids.Field);
            if (!(shape.Length == 1 || (shape.Length == 2 && shape[1] == 1)))
                throw Bad($"{ids.Field}.shape must be [n] (or [n, 1]) for 'ids', got [{string.Join(", ", shape)}].");
            request = new NodePredictionRequest
            {
                Model = model, Version = version, FullNeighborhood = full,
                NodeType = Text("node_type") ?? throw Bad("'node_type' (a parameter or a BYTES input) is missing."),
                Ids = values, Embeddings = embeddings ?? false,
            };
        }
        else
        {
            throw Bad("The inputs need 'ids' (INT64 [n], with node_type) or 'pairs' (INT64 [n, 2], with src_type and dst_type).");
        }

        List<string>? outputs = null;
        if (body.TryGetProperty("outputs", out var requested) && requested.ValueKind != JsonValueKind.Null)
        {
            if (requested.ValueKind != JsonValueKind.Array) throw Bad("\"outputs\" must be an array of {\"name\"}.");
            var available = OutputNames(request);
            outputs = [];
            var k = 0;
            foreach (var o in requested.EnumerateArray())
            {
                var field = $"outputs[{k++}]";
                var name = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var on) && on.ValueKind == JsonValueKind.String
                    ? on.GetString()!
                    : throw Bad($"{field}.name (a string) is missing.");
                if (!available.Contains(name, StringComparer.Ordinal))
                    throw Bad($"{field}.name '{name}' is not an output of this request; it has {string.Join(", ", available)}.");
                outputs.Add(name);
            }
        }
        return new Parsed(request, id, outputs);
    }

    /// <summary>The outputs a request produces (what a request's "outputs" may name).</summary>
    public static string[] OutputNames(PredictionRequest request) => request switch
    {
        LinkPredictionRequest => ["score", "probability"],
        NodePredictionRequest { Embeddings: true } => ["embeddings"],
        _ => ["label", "probabilities"],
    };

    /// <summary>The inference response object: model_name, model_version, id, parameters, outputs (flattened, row-major).</summary>
    public static void Write(Utf8JsonWriter w, PredictionResult result, Parsed parsed)
    {
        w.WriteStartObject();
        w.WriteString("model_name", result.Model);
        w.WriteString("model_version", result.Version);
        w.WriteString("id", parsed.Id);
        w.WriteStartObject("parameters");
        switch (result)
        {
            case NodePredictionResult n: w.WriteString("node_type", n.NodeType); break;
            case LinkPredictionResult l: w.WriteString("src_type", l.SrcType); w.WriteString("dst_type", l.DstType); break;
        }
        w.WriteEndObject();
        w.WriteStartArray("outputs");
        foreach (var name in parsed.Outputs ?? OutputNames(parsed.Request))
        {
            switch (result, name)
            {
                case (NodePredictionResult n, "label"):
                    Tensor(w, name, "INT64", [n.Predictions.Count], n.Predictions.Select(p => (double)p.Label!.Value));
                    break;
                case (NodePredictionResult n, "probabilities"):
                    Matrix(w, name, n.Predictions.Select(p => p.Probabilities!).ToList());
                    break;
                case (NodePredictionResult n, "embeddings"):
                    Matrix(w, name, n.Predictions.Select(p => p.Embedding!).ToList());
                    break;
                case (LinkPredictionResult l, "score"):
                    Tensor(w, name, "FP32", [l.Predictions.Count], l.Predictions.Select(p => (double)p.Score));
                    break;
                case (LinkPredictionResult l, "probability"):
                    Tensor(w, name, "FP32", [l.Predictions.Count], l.Predictions.Select(p => (double)p.Probability));
                    break;
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The model metadata object: name, versions, platform, inputs and outputs as metadata tensors (-1: any size).</summary>
    public static object Metadata(ModelEntry entry, IReadOnlyList<string> versions)
    {
        var width = entry.Model.Config.OutDim;
        static object T(string name, string datatype, params int[] shape) => new { name, datatype, shape };
        var link = entry.Model.Info.Task == ServingTask.LinkPrediction;
        var inputs = new List<object> { T("ids", "INT64", -1), T("node_type", "BYTES", 1), T("embeddings", "BOOL", 1), T("full_neighborhood", "BOOL", 1) };
        var outputs = new List<object>();
        if (link)
        {
            inputs.InsertRange(0, [T("pairs", "INT64", -1, 2), T("src_type", "BYTES", 1), T("dst_type", "BYTES", 1)]);
            outputs.AddRange([T("score", "FP32", -1), T("probability", "FP32", -1)]);
        }
        else
        {
            outputs.AddRange([T("label", "INT64", -1), T("probabilities", "FP32", -1, width)]);
        }
        outputs.Add(T("embeddings", "FP32", -1, width));
        return new { name = entry.Name, versions, platform = Platform, inputs, outputs };
    }

    private static void Matrix(Utf8JsonWriter w, string name, IReadOnlyList<float[]> rows)
    {
        var width = rows.Count == 0 ? 0 : rows[0].Length;
        Tensor(w, name, "FP32", [rows.Count, width], rows.SelectMany(r => r).Select(v => (double)v));
    }

    private static void Tensor(Utf8JsonWriter w, string name, string datatype, long[] shape, IEnumerable<double> data)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteStartArray("shape");
        foreach (var d in shape) w.WriteNumberValue(d);
        w.WriteEndArray();
        w.WriteString("datatype", datatype);
        w.WriteStartArray("data");
        if (datatype == "INT64") foreach (var v in data) w.WriteNumberValue((long)v);
        else foreach (var v in data) w.WriteNumberValue((float)v);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>An integer tensor: its shape and its elements (flattened), checked against each other.</summary>
    private static (long[] Shape, long[] Values) Integers(JsonElement tensor, string field)
    {
        var datatype = Datatype(tensor, field);
        if (!IntegerTypes.Contains(datatype))
            throw Bad($"{field}.datatype must be an integer type (INT64, INT32, UINT64, …) for business ids, got '{datatype}'.");
        var elements = Elements(tensor, field, datatype);
        var shape = Shape(tensor, field);
        var values = new long[elements.Count];
        for (var i = 0; i < values.Length; i++)
        {
            if (elements[i].ValueKind != JsonValueKind.Number || !elements[i].TryGetInt64(out values[i]))
                throw Bad($"{field}.data[{i}] is not an integer: {elements[i].GetRawText()}.");
        }
        return (shape, values);
    }

    /// <summary>The tensor's data, flattened, after checking its datatype is <paramref name="expected"/> and its element count fits its shape.</summary>
    private static List<JsonElement> Elements(JsonElement tensor, string field, string expected)
    {
        var datatype = Datatype(tensor, field);
        if (datatype != expected) throw Bad($"{field}.datatype must be {expected}, got '{datatype}'.");
        var shape = Shape(tensor, field);
        if (!tensor.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array) throw Bad($"{field}.data (an array) is missing.");
        var flat = new List<JsonElement>();
        Flatten(data, flat);
        var expectedCount = shape.Aggregate(1L, (a, b) => a * b);
        if (flat.Count != expectedCount)
            throw Bad($"{field}.data has {flat.Count} elements; shape [{string.Join(", ", shape)}] needs {expectedCount}.");
        return flat;
    }

    private static string Datatype(JsonElement tensor, string field) =>
        tensor.TryGetProperty("datatype", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : throw Bad($"{field}.datatype (a string) is missing.");

    private static long[] Shape(JsonElement tensor, string field)
    {
        if (!tensor.TryGetProperty("shape", out var s) || s.ValueKind != JsonValueKind.Array) throw Bad($"{field}.shape (an array of sizes) is missing.");
        var shape = new long[s.GetArrayLength()];
        var i = 0;
        foreach (var d in s.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out shape[i]) || shape[i] < 0)
                throw Bad($"{field}.shape[{i}] must be a non-negative integer, got {d.GetRawText()}.");
            i++;
        }
        return shape;
    }

    private static void Flatten(JsonElement e, List<JsonElement> into)
    {
        if (e.ValueKind != JsonValueKind.Array) { into.Add(e); return; }
        foreach (var x in e.EnumerateArray()) Flatten(x, into);
    }

    private static ServingException Bad(string message) => ServingException.BadRequest(message);
}
