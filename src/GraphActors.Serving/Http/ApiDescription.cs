// The OpenAPI 3 description each API answers OPTIONS / with (TorchServe's "API description"), generated from the routes themselves.
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.OpenApi;

namespace GraphActors.Serving;

/// <summary>A query parameter of a route, for its OpenAPI description. Handlers parse queries themselves, so a bad value is a 400 naming the field.</summary>
internal sealed record ApiQuery(string Name, JsonSchemaType Type, string Description, bool Required = false);

/// <summary>Endpoint metadata: the query parameters <see cref="ApiDescription"/> documents for the route.</summary>
internal sealed class ApiQueryMetadata(IReadOnlyList<ApiQuery> query)
{
    public IReadOnlyList<ApiQuery> Query => query;
}

/// <summary>Endpoint metadata: the request body a route reads, for its OpenAPI description (handlers read bodies themselves).</summary>
internal sealed record ApiBody(string Description, params string[] ContentTypes);

/// <summary>
/// ASP.NET Core's OpenAPI support (Microsoft.AspNetCore.OpenApi) describes every route an API maps through
/// <see cref="MapApi"/>: the document is built from the endpoints themselves, so it cannot list a route that does not
/// exist, and a test compares its paths with the routes the app maps, so a route cannot be left out. Served as
/// TorchServe serves its own: <c>OPTIONS /</c> (and <c>GET /api-description</c>), OpenAPI 3.0 JSON.
/// </summary>
internal static class ApiDescription
{
    public sealed record Api(string Title, string Description);

    public static readonly Api Inference = new("GraphActors inference API",
        "TorchServe's inference API (predictions, ping), KServe v1 and KServe v2 / Open Inference Protocol over GraphActors' GNN models. docs/SERVING.md.");

    public static readonly Api Management = new("GraphActors management API",
        "TorchServe's management API: register, scale, describe, list, set-default and unregister models. Every route needs Authorization: Bearer <token> unless the token is switched off. docs/SERVING.md.");

    public static readonly Api Metrics = new("GraphActors metrics API", "Prometheus metrics. docs/SERVING.md.");

    public const string DocumentName = "graphactors";

    private static readonly Regex RouteParameter = new(@"\{\*{0,2}([A-Za-z0-9_]+)[^}]*\}", RegexOptions.CultureInvariant);

    internal static string ServerVersion =>
        typeof(ApiDescription).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static void Add(WebApplicationBuilder builder, Api api)
    {
        builder.Services.AddOpenApi(DocumentName, o =>
        {
            o.OpenApiVersion = OpenApiSpecVersion.OpenApi3_0;
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo { Title = api.Title, Description = api.Description, Version = ServerVersion };
                // The document is the same whichever listener or Host header asked: no server addresses in it.
                document.Servers = [];
                return Task.CompletedTask;
            });
            o.AddOperationTransformer((operation, context, _) =>
            {
                // Handlers read their route values and queries themselves (to answer bad ones with a 400 naming the
                // field), so the route's parameters and the documented queries are added here.
                var parameters = operation.Parameters ??= [];
                foreach (Match m in RouteParameter.Matches(context.Description.RelativePath ?? ""))
                {
                    var name = m.Groups[1].Value;
                    if (parameters.Any(p => p.Name == name)) continue;
                    parameters.Add(new OpenApiParameter
                    {
                        Name = name, In = ParameterLocation.Path, Required = true,
                        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    });
                }
                foreach (var q in context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiQueryMetadata>().SelectMany(m => m.Query))
                {
                    parameters.Add(new OpenApiParameter
                    {
                        Name = q.Name, In = ParameterLocation.Query, Required = q.Required, Description = q.Description,
                        Schema = new OpenApiSchema { Type = q.Type },
                    });
                }
                if (context.Description.ActionDescriptor.EndpointMetadata.OfType<ApiBody>().FirstOrDefault() is { } body)
                {
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Description = body.Description, Required = true,
                        Content = body.ContentTypes.ToDictionary(t => t, _ => new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.Object } }),
                    };
                }
                return Task.CompletedTask;
            });
        });
    }

    /// <summary>
    /// Maps one route, described: its tag (which protocol), a one-line summary, and its query parameters. The handler
    /// is passed on as a <see cref="Delegate"/>, not a <see cref="RequestDelegate"/>: only those reach ASP.NET Core's
    /// API explorer and so the OpenAPI document.
    /// </summary>
    public static RouteHandlerBuilder MapApi(this IEndpointRouteBuilder app, string method, string pattern, RequestDelegate handler,
        string tag, string summary, params ApiQuery[] query)
    {
        var builder = app.MapMethods(pattern, [method], (Delegate)(Func<HttpContext, Task>)(ctx => handler(ctx)))
            .WithTags(tag)
            .WithSummary(summary);
        if (query.Length > 0) builder.WithMetadata(new ApiQueryMetadata(query));
        return builder;
    }

    /// <summary>Documents the error statuses a route answers with (TorchServe's error body).</summary>
    public static RouteHandlerBuilder Errors(this RouteHandlerBuilder builder, params int[] codes)
    {
        foreach (var code in codes) builder.Produces(code, contentType: "application/json");
        return builder;
    }

    /// <summary><c>OPTIONS /</c> and <c>GET /api-description</c>: the API's OpenAPI 3.0 document, built once (the routes never change).</summary>
    public static void MapDescription(WebApplication app)
    {
        var document = new Lazy<Task<string>>(() => RenderAsync(app.Services));
        RequestDelegate describe = async ctx =>
        {
            var json = await document.Value.WaitAsync(ctx.RequestAborted).ConfigureAwait(false);
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.WriteAsync(json, ctx.RequestAborted).ConfigureAwait(false);
        };
        app.MapApi("OPTIONS", "/", describe, "API description", "This API's OpenAPI 3.0 description (TorchServe's `curl -X OPTIONS`).")
            .Produces(200, contentType: "application/json");
        app.MapApi("GET", "/api-description", describe, "API description", "The same OpenAPI 3.0 description (TorchServe's /api-description).")
            .Produces(200, contentType: "application/json");
    }

    /// <summary>The API's OpenAPI document as JSON.</summary>
    public static async Task<string> RenderAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var provider = services.GetRequiredKeyedService<IOpenApiDocumentProvider>(DocumentName);
        var document = await provider.GetOpenApiDocumentAsync(cancellationToken).ConfigureAwait(false);
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        document.SerializeAsV3(new OpenApiJsonWriter(text));
        return text.ToString();
    }

    /// <summary>What the app maps: (HTTP method, route pattern) of every route endpoint.</summary>
    public static IReadOnlyList<(string Method, string Pattern)> Routes(WebApplication app) =>
        app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(m => (m, "/" + e.RoutePattern.RawText!.TrimStart('/'))))
            .ToList();
}
