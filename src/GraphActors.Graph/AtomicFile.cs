// Files a crash or an error never leaves half-written: everything is written beside its target, then renamed into place.
namespace GraphActors.Graph;

public static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="writeTemp"/> with a fresh temp path in the target's folder (created when missing), then
    /// renames that file over <paramref name="path"/>; on failure the temp file is deleted and the target left as it was.
    /// </summary>
    public static void Write(string path, Action<string> writeTemp)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        try
        {
            writeTemp(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary><see cref="File.WriteAllText(string, string)"/>, atomically.</summary>
    public static void WriteAllText(string path, string text) => Write(path, temp => File.WriteAllText(temp, text));

    public static void WriteAllBytes(string path, byte[] bytes) => Write(path, temp => File.WriteAllBytes(temp, bytes));
}
