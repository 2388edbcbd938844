// The status page: one self-contained HTML file (inline CSS, JS and SVG; no CDN, no build step), embedded in the assembly.
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace GraphActors.Cluster.Status;

/// <summary>
/// Serves <c>Status/status.html</c>. The page holds no data (it fetches <c>/status/api</c>), so it is the same for
/// everyone; its Content-Security-Policy allows exactly its own inline script and style (by hash) and fetches to its
/// own origin, and it is never cached or sent as a referrer.
/// </summary>
internal static class StatusPage
{
    private const string Resource = "GraphActors.Cluster.Status.status.html";

    private static readonly Lazy<(byte[] Body, string Policy)> Page = new(Load);

    public static byte[] Body => Page.Value.Body;
    public static string ContentSecurityPolicy => Page.Value.Policy;

    public static async Task WriteAsync(HttpContext ctx)
    {
        var (body, policy) = Page.Value;
        ctx.Response.StatusCode = 200;
        ctx.Response.ContentType = "text/html; charset=utf-8";
        var h = ctx.Response.Headers;
        h.ContentSecurityPolicy = policy;
        h.CacheControl = "no-store";
        h["Referrer-Policy"] = "no-referrer";
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        ctx.Response.ContentLength = body.Length;
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted).ConfigureAwait(false);
    }

    private static (byte[], string) Load()
    {
        using var stream = typeof(StatusPage).Assembly.GetManifestResourceStream(Resource)
            ?? throw new InvalidOperationException($"GraphActors.Cluster was built without its embedded {Resource}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var html = reader.ReadToEnd();
        var policy = $"default-src 'none'; script-src {Hash(html, "script")}; style-src {Hash(html, "style")}; connect-src 'self'; " +
                     "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        return (Encoding.UTF8.GetBytes(html), policy);
    }

    // The CSP hash of the one inline <tag>…</tag> block: sha256 of its exact text, base64.
    private static string Hash(string html, string tag)
    {
        var open = html.IndexOf("<" + tag + ">", StringComparison.Ordinal);
        var close = html.IndexOf("</" + tag + ">", StringComparison.Ordinal);
        if (open < 0 || close < open || html.IndexOf("<" + tag + ">", open + 1, StringComparison.Ordinal) >= 0)
            throw new InvalidOperationException($"{Resource} must hold exactly one inline <{tag}> block.");
        var content = html[(open + tag.Length + 2)..close];
        return $"'sha256-{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(content)))}'";
    }
}
