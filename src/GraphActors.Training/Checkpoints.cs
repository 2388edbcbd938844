// Checkpoints: a TorchSharp state dict, the optimizer's state, and a JSON manifest that names and hashes them.
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using GraphActors.Graph;
using GraphActors.Models;
using GraphActors.Sampling;
using GraphActors.Training.Embeddings;

namespace GraphActors.Training;

/// <summary>
/// The manifest of a checkpoint directory (manifest.json beside model.bin and optimizer.bin). <see cref="Epoch"/> is the
/// last epoch whose parameters the state holds; resuming continues with the next one.
/// </summary>
public sealed record CheckpointManifest
{
    public string Format { get; init; } = "graphactors-checkpoint";
    public int FormatVersion { get; init; } = 1;
    public required TrainingConfig Config { get; init; }
    public required int Epoch { get; init; }
    public int BestEpoch { get; init; } = -1;
    public double? BestValMetric { get; init; }
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
    /// <summary>Why <see cref="Metrics"/> is empty or <see cref="BestEpoch"/> is −1, when it is (null otherwise): never silent.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Note { get; init; }
    public required string ModelFile { get; init; }
    public required string ModelSha256 { get; init; }
    public string? OptimizerFile { get; init; }
    public string? OptimizerSha256 { get; init; }
    /// <summary>The learnable embedding tables (training.embeddings): one file per node type and partition, with their optimizer state.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<EmbeddingFile>? Embeddings { get; init; }
    /// <summary>The partition stores the job's store descends from, itself last (<see cref="Trainer.StoreLineage"/>); null when unknown.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? StoreLineage { get; init; }
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;
}

/// <summary>
/// One embedding slab in a checkpoint: node type, its range among the type's id ranges (<c>NodeBook.RangeBoundaries</c>:
/// the partition on a store partitioned in full; range s is partition s mod N's part of generation s / N on a store
/// brought up to date by <c>partition --update</c>), file and its sha256.
/// </summary>
public sealed record EmbeddingFile(string Type, int Partition, string File, string Sha256);

public static class Checkpoints
{
    public const string ManifestName = "manifest.json";
    public const string ModelName = "model.bin";
    public const string OptimizerName = "optimizer.bin";

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Writes the trainer's state into <paramref name="directory"/>: each file to a temporary name and renamed, the
    /// manifest (with the files' sha256) last, so a reader never sees a manifest pointing at half-written state.
    /// The optimizer state (Adam's moments and step count) is saved by PinnedAdam.Save. Embedding tables held by the
    /// trainer are written here; tables owned by the cluster's partitions are written by their owners first and come in
    /// as <paramref name="ownedEmbeddings"/> (files already in <paramref name="directory"/>).
    /// </summary>
    public static CheckpointManifest Save(Trainer trainer, string directory, IReadOnlyDictionary<string, double> metrics, int? epochOverride = null,
        int? bestEpoch = null, double? bestValMetric = null, string? note = null, IReadOnlyList<EmbeddingFile>? ownedEmbeddings = null)
    {
        Directory.CreateDirectory(directory);
        var model = Path.Combine(directory, ModelName);
        var optimizer = Path.Combine(directory, OptimizerName);
        AtomicFile.Write(model, tmp => ModelState.Save(trainer.Model, tmp));
        AtomicFile.Write(optimizer, tmp => trainer.Optimizer.Save(tmp));
        var embeddings = SaveEmbeddings(trainer, directory) ?? ownedEmbeddings?.OrderBy(f => f.Type, StringComparer.Ordinal).ThenBy(f => f.Partition).ToList();
        // The owners hashed their files as they wrote them (atomically, by rename); reading every slab back here would read
        // the whole table once more through this one node each epoch (~190 GB per partition at the seed's 1B × 128-d with
        // Adam's state). Every reader checks each file against the manifest's sha256 before it uses it, so a file damaged
        // or replaced after it was written is still refused, naming it; here the file must at least be there.
        if (ownedEmbeddings is not null)
            foreach (var f in ownedEmbeddings)
                if (!File.Exists(EmbeddingPath(directory, f)))
                    throw new FileNotFoundException($"The owner of '{f.Type}' (partition {f.Partition}) reported {EmbeddingPath(directory, f)}, which is not there.", EmbeddingPath(directory, f));
        var manifest = new CheckpointManifest
        {
            Config = trainer.Config,
            Epoch = epochOverride ?? trainer.CompletedEpochs - 1,
            BestEpoch = bestEpoch ?? trainer.BestEpoch,
            BestValMetric = bestEpoch is not null ? bestValMetric is { } b && double.IsFinite(b) ? b : null
                : double.IsFinite(trainer.BestValMetric) ? trainer.BestValMetric : null,
            Metrics = new Dictionary<string, double>(metrics),
            Note = string.IsNullOrEmpty(note) ? null : note,
            ModelFile = ModelName,
            ModelSha256 = Sha256(model),
            OptimizerFile = OptimizerName,
            OptimizerSha256 = Sha256(optimizer),
            Embeddings = embeddings,
            StoreLineage = trainer.StoreLineage.Count > 0 ? trainer.StoreLineage : null,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ManifestName), JsonSerializer.Serialize(manifest, Json));
        return manifest;
    }

    private static List<EmbeddingFile>? SaveEmbeddings(Trainer trainer, string directory)
    {
        if (trainer.Embeddings is not { } tables) return null;
        var files = new List<EmbeddingFile>();
        foreach (var type in tables.Types)
        {
            var slabs = tables.Slabs(type);
            for (var p = 0; p < slabs.Count; p++) files.Add(WriteSlab(directory, slabs[p], p));
        }
        return files;
    }

    /// <summary>Writes partition <paramref name="partition"/>'s slab into a checkpoint folder (temporary name, then renamed).</summary>
    public static EmbeddingFile WriteSlab(string directory, EmbeddingSlab slab, int partition)
    {
        Directory.CreateDirectory(directory);
        var name = $"embedding-{Uri.EscapeDataString(slab.Type)}-{partition}.bin";
        var path = Path.Combine(directory, name);
        AtomicFile.Write(path, tmp =>
        {
            using var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            slab.WriteTo(stream);
        });
        return new EmbeddingFile(slab.Type, partition, name, Sha256(path));
    }

    /// <summary>
    /// Reads partition <paramref name="partition"/>'s slab of <paramref name="slab"/>'s type from the checkpoint in
    /// <paramref name="directory"/> (sha256 checked against the manifest); its id range must be the slab's.
    /// </summary>
    public static void ReadSlab(CheckpointManifest manifest, string directory, EmbeddingSlab slab, int partition)
    {
        var f = (manifest.Embeddings ?? []).FirstOrDefault(e => e.Type == slab.Type && e.Partition == partition)
            ?? throw new InvalidDataException($"{Path.Combine(directory, ManifestName)} lists no embedding file for '{slab.Type}' of partition {partition}.");
        var path = EmbeddingPath(directory, f);
        Verify(path, f.Sha256);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        slab.ReadFrom(stream, path);
    }

    /// <summary>
    /// The checkpoint's embedding tables on their own (serving, export), each file's sha256 checked; null when the job had
    /// none. The files' own id ranges place the rows, so the reader's store may be partitioned otherwise.
    /// </summary>
    public static SparseEmbeddings? LoadEmbeddings(CheckpointManifest manifest, string directory, GraphStoreSchema schema)
    {
        if (manifest.Config.Embeddings.Count == 0) return null;
        var files = manifest.Embeddings ?? throw new InvalidDataException(
            $"{Path.Combine(directory, ManifestName)}: the job has training.embeddings ({string.Join(", ", manifest.Config.Embeddings.Keys)}) but the checkpoint lists no embedding files.");
        var paths = new List<string>(files.Count);
        foreach (var f in files)
        {
            var path = EmbeddingPath(directory, f);
            Verify(path, f.Sha256);
            paths.Add(path);
        }
        return SparseEmbeddings.Load(manifest.Config.Embeddings, schema, paths);
    }

    // A table's file sits in the checkpoint's own folder: a manifest naming a path elsewhere (../…) is refused unread.
    private static string EmbeddingPath(string directory, EmbeddingFile f)
    {
        if (string.IsNullOrEmpty(f.File) || Path.GetFileName(f.File) != f.File || f.File is "." or "..")
            throw new InvalidDataException($"{Path.Combine(directory, ManifestName)}: embedding file '{f.File}' of '{f.Type}' is not a file name in the checkpoint's folder.");
        return Path.Combine(directory, f.File);
    }

    // The embedding tables of the checkpoint into the trainer's (same types and partitions), each file's sha256 checked;
    // tables owned by the cluster's partitions are restored by their owners (OpenEmbeddings), not here.
    private static void LoadEmbeddings(Trainer trainer, CheckpointManifest manifest, string directory)
    {
        if (trainer.EmbeddingTables is OwnedEmbeddings) return;
        var files = manifest.Embeddings ?? [];
        var tables = trainer.Embeddings;
        if (tables is null)
        {
            if (files.Count > 0)
                throw new InvalidDataException($"{Path.Combine(directory, ManifestName)} holds embedding tables ({string.Join(", ", files.Select(f => f.Type).Distinct())}), but the job has no training.embeddings.");
            return;
        }
        foreach (var type in tables.Types)
        {
            var slabs = tables.Slabs(type);
            var mine = files.Where(f => f.Type == type).OrderBy(f => f.Partition).ToList();
            if (mine.Count != slabs.Count || mine.Select(f => f.Partition).Where((p, i) => p != i).Any())
                throw new InvalidDataException($"{Path.Combine(directory, ManifestName)} has {mine.Count} embedding file(s) for '{type}'; the job's store has {slabs.Count} partition(s) of it.");
            for (var p = 0; p < slabs.Count; p++) ReadSlab(manifest, directory, slabs[p], p);
        }
    }

    /// <summary>
    /// Reads a manifest from a checkpoint directory, its manifest.json, or a run directory (its last/, else best/ —
    /// or the other way round with <paramref name="preferBest"/>, as evaluation wants).
    /// </summary>
    public static (CheckpointManifest Manifest, string Directory) Read(string path, bool preferBest = false)
    {
        var full = Path.GetFullPath(path);
        string file;
        if (File.Exists(full)) file = full;
        else if (File.Exists(Path.Combine(full, ManifestName))) file = Path.Combine(full, ManifestName);
        else if (File.Exists(Path.Combine(full, preferBest ? "best" : "last", ManifestName))) file = Path.Combine(full, preferBest ? "best" : "last", ManifestName);
        else if (File.Exists(Path.Combine(full, preferBest ? "last" : "best", ManifestName))) file = Path.Combine(full, preferBest ? "last" : "best", ManifestName);
        else throw new FileNotFoundException($"No checkpoint at {full}: expected {ManifestName} there, or in its last/ or best/ folder.");
        var manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(file), Json)
            ?? throw new InvalidDataException($"{file} is empty.");
        if (manifest.Format != "graphactors-checkpoint") throw new InvalidDataException($"{file} is not a GraphActors checkpoint manifest.");
        return (manifest, Path.GetDirectoryName(file)!);
    }

    /// <summary>Loads model (and optimizer, when present) state after checking each file's sha256 against the manifest.</summary>
    public static void LoadInto(Trainer trainer, CheckpointManifest manifest, string directory)
    {
        LoadModel(trainer, manifest, directory);
        if (manifest.OptimizerFile is { } o)
        {
            var optimizer = Path.Combine(directory, o);
            Verify(optimizer, manifest.OptimizerSha256!);
            trainer.Optimizer.Load(optimizer);
        }
    }

    /// <summary>Loads only the model state (sha256 checked).</summary>
    public static void LoadModel(Trainer trainer, CheckpointManifest manifest, string directory)
    {
        var model = Path.Combine(directory, manifest.ModelFile);
        Verify(model, manifest.ModelSha256);
        ModelState.Load(trainer.Model, model);
        LoadEmbeddings(trainer, manifest, directory);
    }

    /// <summary>
    /// A new job's start from an earlier job's checkpoint (<c>train --init-from</c>, the previous day's model on today's
    /// store): the model's parameters, and the embedding rows of every id both stores hold (ids are stable across
    /// <c>partition --update</c>; rows of new ids keep their fresh start). The optimizer, epoch and best-model record
    /// start anew. Returns per embedded type how many rows came from the checkpoint.
    /// </summary>
    public static IReadOnlyDictionary<string, int> WarmStart(Trainer trainer, CheckpointManifest manifest, string directory)
    {
        var model = Path.Combine(directory, manifest.ModelFile);
        Verify(model, manifest.ModelSha256);
        try
        {
            ModelState.Load(trainer.Model, model);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            throw new InvalidDataException($"{model}: its parameters do not fit the model of this job's training config (model, hidden size, layers, " +
                $"node and edge types and feature widths must be the checkpoint's): {e.Message}", e);
        }
        if (trainer.Embeddings is not { } tables) return new Dictionary<string, int>(StringComparer.Ordinal);
        CheckRowsCarryOver(manifest, directory, trainer.StoreLineage, tables.Types);
        return CopyEmbeddingRows(manifest, directory, type => tables.Has(type) ? tables.Slabs(type) : null);
    }

    /// <summary>
    /// Refuses to carry the checkpoint's embedding rows of <paramref name="types"/> to a store whose ids name other nodes:
    /// rows carry over by id, and ids name the same nodes only in the checkpoint's store and stores brought up to date
    /// from it. Where either side does not know its store, nothing is refused.
    /// </summary>
    public static void CheckRowsCarryOver(CheckpointManifest manifest, string directory, IReadOnlyList<string> storeLineage, IEnumerable<string> types)
    {
        var embedded = types.ToHashSet(StringComparer.Ordinal);
        if (manifest.StoreLineage is { Count: > 0 } was && storeLineage.Count > 0 && !storeLineage.Contains(was[^1])
            && (manifest.Embeddings ?? []).Any(f => embedded.Contains(f.Type)))
            throw new InvalidDataException($"{Path.Combine(directory, ManifestName)}: its embedding rows are ids of the store {was[^1]}, and this job's store " +
                $"({storeLineage[^1]}) was not brought up to date from it (partition --update), so the same ids name other nodes. Warm-start " +
                "embeddings on a store updated from the checkpoint's, or train them from the seed.");
    }

    /// <summary>
    /// Copies the checkpoint's embedding rows into <paramref name="targets"/>' slabs (null: a type not embedded here),
    /// by id: each target row whose id a checkpoint file holds takes that file's row (weights only; optimizer state
    /// starts anew). A file whose range meets none of a type's target slabs is not read. Returns the rows copied per type.
    /// </summary>
    public static IReadOnlyDictionary<string, int> CopyEmbeddingRows(CheckpointManifest manifest, string directory, Func<string, IReadOnlyList<EmbeddingSlab>?> targets)
    {
        var copied = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var f in manifest.Embeddings ?? [])
        {
            if (targets(f.Type) is not { Count: > 0 } target) continue;
            var path = EmbeddingPath(directory, f);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            var (type, start, count, dim, optimizer) = EmbeddingSlab.ReadHeader(stream, path);
            if (type != f.Type) throw new InvalidDataException($"{path}: holds '{type}' rows; the manifest says '{f.Type}'.");
            if (!target.Any(t => t.Start < start + count && start < t.Start + t.Count)) continue;
            Verify(path, f.Sha256);
            if (dim != target[0].Dim)
                throw new InvalidDataException($"{path}: '{type}' rows of {dim}; this job's training.embeddings.{type} has {target[0].Dim}.");
            stream.Position = 0;
            using var source = new EmbeddingSlab(target[0].Spec with { Optimizer = optimizer == SparseOptimizerKind.SparseAdam ? "sparse_adam" : "sparse_adagrad" }, type, start, count, seed: 0);
            source.ReadFrom(stream, path);
            var n = 0;
            foreach (var slab in target) n += slab.CopyOverlap(source);
            copied[type] = copied.GetValueOrDefault(type) + n;
        }
        return copied;
    }

    private static void Verify(string file, string sha)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"Checkpoint file {file} is missing.", file);
        var actual = Sha256(file);
        if (!string.Equals(actual, sha, StringComparison.OrdinalIgnoreCase))
            throw new InvalidDataException($"{file} has sha256 {actual}, the manifest says {sha}: the checkpoint is damaged or was overwritten.");
    }

    public static string Sha256(string file)
    {
        using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
