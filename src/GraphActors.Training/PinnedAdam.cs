// Adam as torch.optim.Adam computes it (L2 weight decay, no amsgrad), with every Scalar it hands libtorch kept alive.
using GraphActors.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GraphActors.Training;

/// <summary>
/// torch.optim.Adam (Kingma &amp; Ba; PyTorch's defaults β = (0.9, 0.999), ε = 1e-8, weight decay added to the
/// gradient), written over libtorch's in-place ops. TorchSharp 0.107's own Adam builds a temporary <see cref="Scalar"/>
/// for each of those ops and reads only its handle, so a GC on another thread can free it while libtorch reads it
/// (dotnet/TorchSharp#1434); in the cluster, where two replicas and the samplers allocate side by side, that failed
/// steps as "Expected false to be true … Scalar.h:140" inside Adam.step. Here the constant Scalars are fields and the
/// per-step ones are kept alive to the end of the step. State: per parameter the first and second moments, and the
/// step count (checkpointed by <see cref="Save"/>/<see cref="Load"/>).
/// </summary>
public sealed class PinnedAdam : IDisposable
{
    private const int FormatVersion = 1;
    private const string Magic = "GA-ADAM";
    private readonly TorchSharp.Modules.Parameter[] _parameters;
    private readonly Tensor[] _expAvg;
    private readonly Tensor[] _expAvgSq;
    private readonly Scalar _beta1, _beta2, _oneMinusBeta1, _oneMinusBeta2, _eps, _weightDecay;

    public PinnedAdam(IEnumerable<TorchSharp.Modules.Parameter> parameters, double lr, double weightDecay = 0, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8)
    {
        _parameters = parameters.ToArray();
        LearningRate = lr; WeightDecay = weightDecay; Beta1 = beta1; Beta2 = beta2; Eps = eps;
        using (no_grad())
        {
            _expAvg = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
            _expAvgSq = _parameters.Select(p => zeros_like(p).DetachFromDisposeScope()).ToArray();
        }
        _beta1 = beta1; _beta2 = beta2; _oneMinusBeta1 = 1 - beta1; _oneMinusBeta2 = 1 - beta2; _eps = eps; _weightDecay = weightDecay;
    }

    public double LearningRate { get; }
    public double WeightDecay { get; }
    public double Beta1 { get; }
    public double Beta2 { get; }
    public double Eps { get; }
    /// <summary>Steps taken (PyTorch keeps one per parameter; they are always equal here, every parameter has a gradient or none does).</summary>
    public long Steps { get; private set; }

    public void zero_grad()
    {
        foreach (var p in _parameters)
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    public void step()
    {
        Steps++;
        var biasCorrection1 = 1 - Math.Pow(Beta1, Steps);
        var biasCorrection2 = 1 - Math.Pow(Beta2, Steps);
        Scalar negativeStepSize = -LearningRate / biasCorrection1;
        Scalar sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2);
        using (no_grad())
        using (NewDisposeScope())
        {
            for (var i = 0; i < _parameters.Length; i++)
            {
                var p = _parameters[i];
                var grad = p.grad;
                if (grad is null) continue;
                if (WeightDecay != 0) grad = grad.add(p, _weightDecay);
                _expAvg[i].mul_(_beta1).add_(grad, _oneMinusBeta1);
                _expAvgSq[i].mul_(_beta2).addcmul_(grad, grad, _oneMinusBeta2);
                var denominator = _expAvgSq[i].sqrt().div_(sqrtBiasCorrection2).add_(_eps, PinnedScalars.One);
                p.addcdiv_(_expAvg[i], denominator, negativeStepSize);
            }
        }
        GC.KeepAlive(negativeStepSize);
        GC.KeepAlive(sqrtBiasCorrection2);
        negativeStepSize.Dispose();
        sqrtBiasCorrection2.Dispose();
    }

    /// <summary>Writes the step count and both moments of every parameter, in parameter order.</summary>
    public void Save(string path)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(_parameters.Length);
        writer.Write(Steps);
        for (var i = 0; i < _parameters.Length; i++)
        {
            _expAvg[i].Save(writer);
            _expAvgSq[i].Save(writer);
        }
    }

    /// <summary>Reads what <see cref="Save"/> wrote; a file of another optimizer or model is refused naming the file.</summary>
    public void Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        string magic;
        try { magic = reader.ReadString(); }
        catch (Exception e) when (e is EndOfStreamException or IOException) { magic = ""; }
        if (magic != Magic)
            throw new InvalidDataException($"{path} is not a GraphActors Adam state (written by an older version or another optimizer).");
        var version = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"{path}: Adam state version {version}, this build reads {FormatVersion}.");
        var count = reader.ReadInt32();
        if (count != _parameters.Length)
            throw new InvalidDataException($"{path} holds the moments of {count} parameters; this model has {_parameters.Length}.");
        Steps = reader.ReadInt64();
        using (no_grad())
            for (var i = 0; i < _parameters.Length; i++)
            {
                _expAvg[i].Load(reader);
                _expAvgSq[i].Load(reader);
            }
    }

    public void Dispose()
    {
        foreach (var t in _expAvg) t.Dispose();
        foreach (var t in _expAvgSq) t.Dispose();
        foreach (var s in new[] { _beta1, _beta2, _oneMinusBeta1, _oneMinusBeta2, _eps, _weightDecay }) s.Dispose();
    }
}
