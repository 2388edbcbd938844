// Every refusal the serving layer gives, as TorchServe's error body: {"code", "type", "message"}.
namespace GraphActors.Serving;

/// <summary>A request the engine or the HTTP layer refuses; <see cref="Code"/> is the HTTP status.</summary>
public sealed class ServingException(int code, string type, string message) : Exception(message)
{
    public int Code { get; } = code;
    public string Type { get; } = type;

    public static ServingException BadRequest(string message) => new(400, "BadRequestException", message);
    public static ServingException ModelNotFound(string message) => new(404, "ModelNotFoundException", message);
    public static ServingException NodeNotFound(string message) => new(404, "NodeNotFoundException", message);
    public static ServingException TooLarge(string message) => new(413, "RequestTooLargeException", message);
    public static ServingException Unavailable(string message) => new(503, "ServiceUnavailableException", message);
    public static ServingException Conflict(string message) => new(409, "ConflictStatusException", message);
}
