// Prediction inputs as TorchServe receives them: any body (`curl -T file`, any or no Content-Type), or multipart/form parts.
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace GraphActors.Serving;

/// <summary>
/// Reads the JSON inputs of a prediction the way TorchServe's frontend and default handlers do: a multipart/form-data
/// or form-urlencoded body gives one input per part (or field) named <c>data</c> or <c>body</c>, in the order sent —
/// several of them are a batch, answered in that order; any other body is one input whatever its Content-Type says
/// (TorchServe passes the raw bytes as <c>body</c> and its handlers decode JSON from them). Each input must be JSON (our
/// models take ids, not tensors or images); one that is not is a 400 naming the part.
/// </summary>
internal static class PredictionBodies
{
    /// <summary>The field names TorchServe's default handlers read (<c>data</c>, else <c>body</c>).</summary>
    public static readonly string[] Fields = ["data", "body"];

    /// <summary>One parsed input and where it came from ("the body", "multipart part 'data' #2 (x.json)").</summary>
    public sealed record Input(JsonDocument Document, string Source) : IDisposable
    {
        public void Dispose() => Document.Dispose();
    }

    public static bool IsForm(HttpRequest request) => request.HasFormContentType;

    /// <summary>All inputs of the request (at least one); dispose them when done.</summary>
    public static async Task<IReadOnlyList<Input>> ReadAsync(HttpContext ctx)
    {
        var request = ctx.Request;
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type) && type.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            return await ReadMultipartAsync(ctx, type).ConfigureAwait(false);
        if (request.HasFormContentType) return await ReadUrlEncodedAsync(ctx).ConfigureAwait(false);
        return [new Input(await ParseAsync(request.Body, "the body", ctx.RequestAborted).ConfigureAwait(false), "the body")];
    }

    /// <summary>The body as one JSON document whatever its Content-Type (KServe bodies; TorchServe's raw bodies).</summary>
    public static Task<JsonDocument> ReadJsonAsync(HttpContext ctx) => ParseAsync(ctx.Request.Body, "the body", ctx.RequestAborted);

    private static async Task<IReadOnlyList<Input>> ReadMultipartAsync(HttpContext ctx, MediaTypeHeaderValue type)
    {
        var boundary = HeaderUtilities.RemoveQuotes(type.Boundary).Value;
        if (string.IsNullOrEmpty(boundary)) throw ServingException.BadRequest("The multipart/form-data Content-Type has no boundary.");
        var reader = new MultipartReader(boundary, ctx.Request.Body);
        var inputs = new List<Input>();
        var ignored = new List<string>();
        try
        {
            var index = 0;
            while (await reader.ReadNextSectionAsync(ctx.RequestAborted).ConfigureAwait(false) is { } section)
            {
                index++;
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                    throw ServingException.BadRequest($"Multipart part #{index} is not a form field (Content-Disposition: form-data; name=\"data\").");
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (!Fields.Contains(name, StringComparer.Ordinal))
                {
                    ignored.Add(name);
                    continue;
                }
                var file = disposition.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                var source = $"multipart part '{name}' #{inputs.Count + 1}{(string.IsNullOrEmpty(file) ? "" : $" ({file})")}";
                inputs.Add(new Input(await ParseAsync(section.Body, source, ctx.RequestAborted).ConfigureAwait(false), source));
            }
        }
        catch
        {
            foreach (var i in inputs) i.Dispose();
            throw;
        }
        return Checked(inputs, ignored);
    }

    private static async Task<IReadOnlyList<Input>> ReadUrlEncodedAsync(HttpContext ctx)
    {
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted).ConfigureAwait(false);
        var inputs = new List<Input>();
        try
        {
            foreach (var name in Fields)
            {
                foreach (var value in form[name])
                {
                    var source = $"form field '{name}' #{inputs.Count + 1}";
                    using var stream = new MemoryStream(Encoding.UTF8.GetBytes(value ?? ""));
                    inputs.Add(new Input(await ParseAsync(stream, source, ctx.RequestAborted).ConfigureAwait(false), source));
                }
            }
        }
        catch
        {
            foreach (var i in inputs) i.Dispose();
            throw;
        }
        return Checked(inputs, form.Keys.Where(k => !Fields.Contains(k, StringComparer.Ordinal)).ToList());
    }

    // Parts we would not read are refused rather than dropped: a client that named its part "file" learns why nothing was predicted.
    private static IReadOnlyList<Input> Checked(List<Input> inputs, List<string> ignored)
    {
        if (ignored.Count == 0 && inputs.Count > 0) return inputs;
        foreach (var i in inputs) i.Dispose();
        var names = ignored.Count == 0 ? "none" : string.Join(", ", ignored.Distinct().Select(n => $"'{n}'"));
        throw ServingException.BadRequest(
            $"A form body carries its inputs in parts named 'data' (or 'body'), one JSON request each (curl -F data=@request.json); this one has {names}.");
    }

    private static async Task<JsonDocument> ParseAsync(Stream stream, string source, CancellationToken cancellationToken)
    {
        try
        {
            return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException e)
        {
            throw ServingException.BadRequest(
                $"Malformed JSON in {source}: {e.Message} (a prediction is a JSON object such as {{\"node_type\": \"user\", \"ids\": [1000]}}).");
        }
    }
}
