// A job's checkpoint directory as `ctl checkpoints list` and `ctl model export` see it: epoch-NNNN folders with a manifest each.
using System.Globalization;
using System.Text.Json;
using GraphActors.Cluster.Trainers;
using GraphActors.Training;
using static GraphActors.Contracts.Protocols.CommandProtocol;

namespace GraphActors.Cluster.Commands;

/// <summary>
/// Reads the layout the training coordinator asks its trainers to write (<c>&lt;checkpoint_dir&gt;/&lt;job&gt;/epoch-NNNN/</c>
/// with manifest.json, model.bin and optimizer.bin) and exports one checkpoint as a model directory for the inference
/// role. Plain file work without Akka; the CommandHandler runs it off its own thread.
/// </summary>
public static class CheckpointCatalog
{
    public const string EpochPrefix = "epoch-";

    /// <summary>Written beside the exported manifest: which job, epoch and checkpoint the model came from.</summary>
    public const string ExportInfoName = "export.json";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The folder name of <paramref name="epoch"/>'s checkpoint, as the coordinator names it.</summary>
    public static string EpochFolder(int epoch) => EpochPrefix + epoch.ToString("D4", Inv);

    /// <summary>
    /// Every <c>epoch-NNNN</c> checkpoint under <paramref name="directory"/>, each verified against its manifest's sha256.
    /// <paramref name="evalMetric"/> picks the best (empty: the metric the job's task is judged by, from the manifests).
    /// </summary>
    public static CheckpointsResult List(string directory, string jobId, string evalMetric, string node)
    {
        var full = Path.GetFullPath(directory);
        if (!Directory.Exists(full))
            return new CheckpointsResult(jobId, full, node, evalMetric, -1, -1, [],
                File.Exists(full) ? $"{full} on {node} is a file, not a job's checkpoint directory"
                    : $"no checkpoint directory {full} on {node} (no epoch has been checkpointed yet, or the directory is on another machine)");
        var found = new List<(CheckpointInfo Info, CheckpointManifest? Manifest)>();
        foreach (var dir in Directory.EnumerateDirectories(full, EpochPrefix + "*"))
        {
            // Folders like epoch-0003.tmp-… are a write in progress, not a checkpoint.
            if (!int.TryParse(Path.GetFileName(dir).AsSpan(EpochPrefix.Length), NumberStyles.None, Inv, out var epoch)) continue;
            found.Add(Read(dir, epoch));
        }
        found.Sort((a, b) => a.Info.Epoch.CompareTo(b.Info.Epoch));
        if (evalMetric.Length == 0 && found.FirstOrDefault(f => f.Manifest is not null).Manifest is { } first)
            evalMetric = TrainingHocon.EvalMetric(first.Config);

        int last = -1, best = -1;
        var bestValue = double.NegativeInfinity;
        foreach (var (info, _) in found)
        {
            if (!info.Verified) continue;
            last = info.Epoch;
            if (MetricOf(info, evalMetric) is { } v && v > bestValue)
            {
                bestValue = v;
                best = info.Epoch;
            }
        }
        return new CheckpointsResult(jobId, full, node, evalMetric, last, best, found.Select(f => f.Info).ToArray(), "");
    }

    /// <summary>
    /// The value of <paramref name="metric"/> in a checkpoint's metrics; a trainer may record it without the split
    /// prefix (<c>accuracy</c> for <c>val_accuracy</c>), as local-mode checkpoints do. Null when absent or not finite.
    /// </summary>
    public static double? MetricOf(CheckpointInfo info, string metric)
    {
        if (metric.Length == 0) return null;
        var bare = metric.StartsWith("val_", StringComparison.Ordinal) ? metric[4..] : metric;
        double? fallback = null;
        for (var i = 0; i < info.MetricNames.Length; i++)
        {
            var v = info.MetricValues[i];
            if (!double.IsFinite(v)) continue;
            if (info.MetricNames[i] == metric) return v;
            if (info.MetricNames[i] == bare) fallback = v;
        }
        return fallback;
    }

    private static (CheckpointInfo, CheckpointManifest?) Read(string dir, int epoch)
    {
        var bytes = 0L;
        foreach (var f in new DirectoryInfo(dir).EnumerateFiles()) bytes += f.Length;
        CheckpointManifest manifest;
        try
        {
            manifest = Checkpoints.Read(Path.Combine(dir, Checkpoints.ManifestName)).Manifest;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or UnauthorizedAccessException)
        {
            return (new CheckpointInfo(epoch, dir, [], [], false, $"unreadable manifest: {e.Message}", bytes, 0), null);
        }
        var names = manifest.Metrics.Keys.Order(StringComparer.Ordinal).ToArray();
        var values = new double[names.Length];
        for (var i = 0; i < names.Length; i++) values[i] = manifest.Metrics[names[i]];
        var problem = manifest.Epoch != epoch ? $"the manifest says epoch {manifest.Epoch}, the folder {EpochFolder(epoch)}"
            : Mismatch(dir, manifest.ModelFile, manifest.ModelSha256)
              ?? (manifest.OptimizerFile is { } o ? Mismatch(dir, o, manifest.OptimizerSha256 ?? "") : null)
              ?? "";
        return (new CheckpointInfo(epoch, dir, names, values, problem.Length == 0, problem, bytes, manifest.CreatedUtc.ToUnixTimeMilliseconds()), manifest);
    }

    // Null when the file is there with the manifest's sha256; else what is wrong, in words.
    private static string? Mismatch(string dir, string file, string expected)
    {
        var path = Path.Combine(dir, file);
        if (!File.Exists(path)) return $"{file} is missing";
        var actual = Checkpoints.Sha256(path);
        return string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase) ? null
            : $"{file} has sha256 {actual}, the manifest says {expected} (damaged or overwritten)";
    }

    /// <summary>
    /// Copies the checkpoint <paramref name="choice"/> names from <paramref name="listing"/> into a model directory
    /// <paramref name="outDir"/> (manifest.json and model.bin, the sha256 checked on the copy, plus export.json),
    /// written beside it under a temporary name and renamed. The optimizer state stays behind: serving does not need it.
    /// An existing non-empty <paramref name="outDir"/> is never replaced.
    /// </summary>
    public static ModelExported Export(CheckpointsResult listing, ExportChoice choice, int epoch, string outDir)
    {
        ModelExported Fail(string message) => new(false, message, listing.JobId, -1, "", outDir, "", 0, listing.Node);
        if (listing.Problem.Length > 0) return Fail(listing.Problem);
        var verified = listing.Checkpoints.Count(c => c.Verified);
        if (verified == 0)
            return Fail(listing.Checkpoints.Length == 0
                ? $"job '{listing.JobId}' has no checkpoint under {listing.Directory} on {listing.Node}"
                : $"none of the {listing.Checkpoints.Length} checkpoint(s) of job '{listing.JobId}' under {listing.Directory} passes its sha256 check");
        var note = "";
        var pick = choice switch
        {
            ExportChoice.Epoch => epoch,
            ExportChoice.Last => listing.LastEpoch,
            _ when listing.BestEpoch >= 0 => listing.BestEpoch,
            _ => listing.LastEpoch,
        };
        if (choice == ExportChoice.Best && listing.BestEpoch < 0)
            note = $" (no checkpoint records {(listing.EvalMetric.Length > 0 ? listing.EvalMetric : "an evaluation metric")}: the last one)";
        var chosen = listing.Checkpoints.FirstOrDefault(c => c.Epoch == pick);
        if (chosen is null)
            return Fail($"job '{listing.JobId}' has no checkpoint of epoch {pick} under {listing.Directory}; epochs: " +
                        string.Join(", ", listing.Checkpoints.Select(c => c.Epoch.ToString(Inv))));
        if (!chosen.Verified) return Fail($"the checkpoint of epoch {pick} ({chosen.Path}) cannot be exported: {chosen.Problem}");

        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outDir));
        if (File.Exists(target)) return Fail($"--out {target} is a file");
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
            return Fail($"--out {target} exists and is not empty: name a new directory or remove it first");
        var parent = Path.GetDirectoryName(target)!;
        var tmp = Path.Combine(parent, $".{Path.GetFileName(target)}.tmp-{Guid.NewGuid().ToString("N")[..8]}");
        try
        {
            Directory.CreateDirectory(tmp);
            var (manifest, source) = Checkpoints.Read(chosen.Path);
            var model = Path.Combine(tmp, Checkpoints.ModelName);
            File.Copy(Path.Combine(source, manifest.ModelFile), model);
            var sha = Checkpoints.Sha256(model);
            if (!string.Equals(sha, manifest.ModelSha256, StringComparison.OrdinalIgnoreCase))
                return Fail($"the copy of {Path.Combine(source, manifest.ModelFile)} has sha256 {sha}, the manifest says {manifest.ModelSha256}: " +
                            "the checkpoint changed while it was copied");
            // Learnable embedding tables are part of the model: each copied and checked like it.
            foreach (var e in manifest.Embeddings ?? [])
            {
                var copy = Path.Combine(tmp, e.File);
                File.Copy(Path.Combine(source, e.File), copy);
                var copied = Checkpoints.Sha256(copy);
                if (!string.Equals(copied, e.Sha256, StringComparison.OrdinalIgnoreCase))
                    return Fail($"the copy of {Path.Combine(source, e.File)} has sha256 {copied}, the manifest says {e.Sha256}: the checkpoint changed while it was copied");
            }
            var exported = manifest with { ModelFile = Checkpoints.ModelName, OptimizerFile = null, OptimizerSha256 = null };
            File.WriteAllText(Path.Combine(tmp, Checkpoints.ManifestName), JsonSerializer.Serialize(exported, Checkpoints.Json));
            var info = new
            {
                Job = listing.JobId,
                Epoch = pick,
                Source = chosen.Path,
                EvalMetric = listing.EvalMetric,
                Best = pick == listing.BestEpoch,
                ExportedUtc = DateTimeOffset.UtcNow,
                Node = listing.Node,
            };
            File.WriteAllText(Path.Combine(tmp, ExportInfoName), JsonSerializer.Serialize(info, Checkpoints.Json));
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(tmp, target);
            var size = new FileInfo(Path.Combine(target, Checkpoints.ModelName)).Length;
            return new ModelExported(true, $"exported epoch {pick}{note} of job '{listing.JobId}' to {target}", listing.JobId, pick, chosen.Path,
                target, sha, size, listing.Node);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
        {
            return Fail($"exporting {chosen.Path} to {target} failed: {e.Message}");
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
        }
    }
}
