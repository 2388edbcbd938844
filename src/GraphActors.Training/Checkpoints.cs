// Checkpoints: a TorchSharp state dict, the optimizer's state, and a JSON manifest that names and hashes them.
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using GraphActors.Graph;
using GraphActors.Models;

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
    public DateTimeOffset CreatedUtc { get; init; } = DateTimeOffset.UtcNow;
}

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
    /// The optimizer state (Adam's moments and step count) is saved by PinnedAdam.Save.
    /// </summary>
    public static CheckpointManifest Save(Trainer trainer, string directory, IReadOnlyDictionary<string, double> metrics, int? epochOverride = null,
        int? bestEpoch = null, double? bestValMetric = null, string? note = null)
    {
        Directory.CreateDirectory(directory);
        var model = Path.Combine(directory, ModelName);
        var optimizer = Path.Combine(directory, OptimizerName);
        AtomicFile.Write(model, tmp => ModelState.Save(trainer.Model, tmp));
        AtomicFile.Write(optimizer, tmp => trainer.Optimizer.Save(tmp));
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
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ManifestName), JsonSerializer.Serialize(manifest, Json));
        return manifest;
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
