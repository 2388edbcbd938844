// TorchServe's --model-store: the one folder model urls may name, so POST /models cannot open any file the server can read.
namespace GraphActors.Serving;

/// <summary>
/// The folder checkpoints are served from. A url is a path relative to it, an absolute path inside it, or a
/// <c>file://</c> url inside it; whatever resolves outside it — through <c>..</c>, an absolute path or a symbolic link
/// — is refused (403) before anything is opened, with a message that names the url and the store and nothing read
/// from a file.
/// </summary>
public sealed class ModelStore
{
    private readonly string _realRoot;

    public ModelStore(string root)
    {
        if (string.IsNullOrWhiteSpace(root)) throw new ArgumentException("The model store needs a folder.", nameof(root));
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _realRoot = RealPath(Root);
    }

    /// <summary>The store's absolute path.</summary>
    public string Root { get; }

    /// <summary>The absolute path <paramref name="url"/> names inside the store, symbolic links resolved.</summary>
    /// <exception cref="ServingException">400 for an empty url or one with another scheme; 403 for one outside the store.</exception>
    public string Resolve(string url)
    {
        if (string.IsNullOrWhiteSpace(url)) throw ServingException.BadRequest("Parameter url is required: a checkpoint path in the model store.");
        string path;
        if (url.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !uri.IsFile || !string.IsNullOrEmpty(uri.Host))
                throw ServingException.BadRequest($"url '{url}' is not a local file:// url (file:///path/in/the/store).");
            path = uri.LocalPath;
        }
        else if (url.Contains("://", StringComparison.Ordinal))
            throw ServingException.BadRequest($"url '{url}' is not a path: checkpoints are served from the model store {Root} (a path relative to it, or absolute inside it).");
        else path = url;
        if (path.Contains('\0')) throw ServingException.BadRequest("url contains a NUL character.");

        var full = Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(Root, path));
        if (!Inside(full, Root) || !Inside(RealPath(full), _realRoot))
            throw new ServingException(403, "ForbiddenException",
                $"url '{url}' is outside the model store {Root}: register a checkpoint by a path relative to the store, or an absolute path inside it.");
        return RealPath(full);
    }

    private static bool Inside(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// <paramref name="path"/> (absolute, normalised) with every symbolic link among its existing components replaced by
    /// its final target, left to right; components that do not exist stay as they are (a later load fails on them).
    /// </summary>
    internal static string RealPath(string path, int depth = 0)
    {
        if (depth > 40) throw ServingException.BadRequest($"Too many levels of symbolic links under {path}.");
        var root = Path.GetPathRoot(path)!;
        var current = root;
        var parts = path[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                // A relative target is relative to the link's folder; the target may hold links of its own.
                var resolved = Path.GetFullPath(Path.IsPathRooted(target) ? target : Path.Combine(current, target));
                var rest = parts.Length > i + 1 ? Path.Combine(parts[(i + 1)..]) : "";
                return RealPath(Path.GetFullPath(Path.Combine(resolved, rest)), depth + 1);
            }
            current = next;
        }
        return current;
    }
}

/// <summary>TorchServe's rule for model names (torch-model-archiver's regex), applied to model_name and model_version.</summary>
public static class ModelNames
{
    public const int MaxLength = 128;
    public const string Pattern = "^[A-Za-z0-9][A-Za-z0-9_.-]*$";
    private static readonly System.Text.RegularExpressions.Regex Valid = new(Pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>Null when <paramref name="value"/> is a valid name, else why not (naming <paramref name="field"/>).</summary>
    public static string? Problem(string? value, string field)
    {
        if (string.IsNullOrEmpty(value)) return $"{field} is empty.";
        var shown = value.Length > 40 ? value[..40] + "…" : value;
        if (value.Length > MaxLength) return $"{field} '{shown}' has {value.Length} characters; at most {MaxLength} are allowed.";
        if (!Valid.IsMatch(value)) return $"{field} '{shown}' is not allowed: it must match {Pattern} (letters, digits, '_', '.', '-'; no slashes).";
        return null;
    }

    /// <exception cref="ServingException">400 naming the field.</exception>
    public static void Check(string? value, string field)
    {
        if (Problem(value, field) is { } problem) throw ServingException.BadRequest(problem);
    }
}
