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

    /// <summary>
    /// The content of <paramref name="path"/>; when the file does not exist, <paramref name="create"/>'s text written
    /// there first, readable and writable by its owner only (0600 from the moment it exists). Processes starting together
    /// on one path agree: the file is created exclusively (O_CREAT|O_EXCL, atomic on every local file system, unlike a
    /// no-replace rename, which .NET emulates with a check and a rename where hard links are not supported) and written
    /// in one call, and the ones that lose the race wait up to two seconds for the winner's text and read it. Meant for
    /// small secrets (tokens) that must never be half-written nor differ between two readers.
    /// </summary>
    public static (string Text, bool Created) ReadOrCreateExclusive(string path, Func<string> create)
    {
        var full = Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.Read };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            FileStream? stream = null;
            try
            {
                stream = new FileStream(full, options);
            }
            catch (IOException) when (File.Exists(full))
            {
                // Another process created it first: read its text below.
            }
            if (stream is not null)
            {
                var text = create();
                using (stream)
                {
                    stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
                    stream.Flush(flushToDisk: true);
                }
                return (text, true);
            }
        }
        var deadline = Environment.TickCount64 + 2_000;
        while (true)
        {
            var text = File.ReadAllText(full);
            if (text.Trim().Length > 0 || Environment.TickCount64 >= deadline) return (text, false);
            Thread.Sleep(10);
        }
    }
}
